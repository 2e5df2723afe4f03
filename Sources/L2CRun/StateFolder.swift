import Foundation
import L2CComm

/// The states of one run: OUT/checkpoints/state-<sequence>-<phase>-step<step>.safetensors, the sequence
/// growing with every write (across phases and resumes), so the newest is the highest.
public struct StateFolder {
    public let path: String

    public init(out: String) { path = (out as NSString).appendingPathComponent("checkpoints") }
    public init(path: String) { self.path = path }

    /// The states under a folder a user names: an OUT folder (its checkpoints/) or a checkpoints folder itself.
    public static func named(_ folder: String) -> StateFolder {
        let nested = StateFolder(out: folder)
        return nested.states().isEmpty ? StateFolder(path: folder) : nested
    }

    /// (sequence, file path), newest first.
    public func states() -> [(sequence: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("state-"), name.hasSuffix(".safetensors"),
                  let sequence = Int(name.dropFirst(6).prefix { $0.isNumber }) else { return nil }
            return (sequence, (path as NSString).appendingPathComponent(name))
        }.sorted { $0.0 > $1.0 }
    }

    func file(sequence: Int, phase: String, step: Int) -> String {
        (path as NSString).appendingPathComponent(String(format: "state-%06d-%@-step%08d.safetensors", sequence, phase, step))
    }

    /// Removes all but the newest `keep` states from sequence `first` on, and temporary files of writes that a
    /// killed run left behind.
    func prune(keep: Int, from first: Int = 0) {
        for old in states().filter({ $0.sequence >= first }).dropFirst(max(keep, 1)) { try? FileManager.default.removeItem(atPath: old.path) }
        let pid = "\(getpid())"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        where name.hasPrefix(".state-") && name.contains(".tmp-") && !name.hasSuffix("-" + pid) {
            try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name))
        }
    }

    /// The newest state that loads and verifies; each newer one that does not is reported by path.
    func newestValid(report: (String) -> Void) throws -> TrainingState? {
        let candidates = states()
        var problems: [String] = []
        for candidate in candidates {
            do { return try TrainingState.load(candidate.path) } catch {
                problems.append("\(error)")
                report("\(error); trying the state before it")
            }
        }
        guard problems.isEmpty else {
            throw InputError(path, "no valid training state: \(problems.joined(separator: "; "))")
        }
        return nil
    }
}
