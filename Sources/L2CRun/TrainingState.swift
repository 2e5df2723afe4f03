import Foundation
import L2CComm
import L2CData
import L2CTensor

/// Everything a run needs to continue where it stopped, as one safetensors file in OUT/checkpoints/:
/// the tensors of the phase in progress (parameters and BatchNorm running statistics under their model
/// names, optimizer moments as `optimizer.<parameter>.exp_avg`/`.exp_avg_sq`/`.momentum_buffer`), the
/// artefacts of phases already finished (`<phase>.<name>`, e.g. a transfer run's similarity network), and in
/// the metadata: the loop position, the optimizer's step count, the options that fix the trajectory, the
/// driver's own state of the phase in progress and the records of the finished phases.
public struct TrainingState {
    public static let format = "l2c-state-2"
    /// Formats of earlier L2C versions: their options are keyed differently, so they are refused by name.
    static let earlierFormats = ["l2c-state-1"]
    public let path: String
    public let contents: Checkpoint.Contents
    public let command: String
    /// The loop that was running ("train", "spn", "cluster", "acol", "cluster.3" for a transfer's 4th alphabet).
    public let phase: String
    /// Steps of `phase` completed.
    public let step: Int
    public let optimizerSteps: Int
    /// Options that must not change on resume, by option name.
    public let options: [String: String]
    /// The driver's own state of the phase in progress (ACOL's node activity, the last loss, …).
    public let phaseState: [String: String]
    /// Finished phases and what their drivers recorded.
    public let completed: [String: [String: String]]

    public init(path: String, contents: Checkpoint.Contents) throws {
        self.path = path
        self.contents = contents
        let meta = contents.metadata
        if let found = meta["format"], Self.earlierFormats.contains(found) {
            throw InputError(path, "metadata 'format': \(found) is a training state of an earlier L2C, which this one cannot resume (it reads \(Self.format)); start a new --out")
        }
        guard meta["format"] == Self.format else {
            throw InputError(path, "metadata 'format': expected \(Self.format) (a training state), found \(meta["format"] ?? "nothing")")
        }
        func field(_ key: String) throws -> String {
            guard let value = meta[key] else { throw InputError(path, "metadata '\(key)': missing") }
            return value
        }
        func count(_ key: String) throws -> Int {
            guard let value = Int(try field(key)), value >= 0 else { throw InputError(path, "metadata '\(key)': expected a count") }
            return value
        }
        func object<T>(_ key: String, as type: T.Type) throws -> T {
            guard let value = (try? JSONSerialization.jsonObject(with: Data(try field(key).utf8))) as? T else {
                throw InputError(path, "metadata '\(key)': expected a JSON object of strings")
            }
            return value
        }
        command = try field("command")
        phase = try field("phase")
        step = try count("step")
        optimizerSteps = try count("optimizer.step")
        options = try object("options", as: [String: String].self)
        phaseState = try object("phase_state", as: [String: String].self)
        completed = try object("completed", as: [String: [String: String]].self)
    }

    public static func load(_ path: String) throws -> TrainingState {
        try TrainingState(path: path, contents: try Checkpoint.load(path))
    }

    static func metadata(command: String, phase: String, step: Int, optimizerSteps: Int, options: [String: String],
                         phaseState: [String: String], completed: [String: [String: String]], ranks: Int) -> [String: String] {
        ["format": format, "command": command, "phase": phase, "step": "\(step)", "optimizer.step": "\(optimizerSteps)",
         "options": JSONLine.encode(options), "phase_state": JSONLine.encode(phaseState), "completed": JSONLine.encode(completed),
         "ranks": "\(ranks)"]
    }

    /// The tensors under `prefix.` with the prefix removed (a finished phase's artefact).
    func tensors(prefixed prefix: String) -> Checkpoint.Contents {
        var out = Checkpoint.Contents(tensors: [:], metadata: [:])
        for (name, value) in contents.tensors where name.hasPrefix(prefix + ".") { out.tensors[String(name.dropFirst(prefix.count + 1))] = value }
        return out
    }
}

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

/// Writes states on a background thread of rank 0, one at a time, so that the other ranks (and rank 0's
/// training) pause only for the copy of the tensors. An error of a write surfaces at the next save or at
/// `finish`, where every rank learns of it.
final class StateWriter: @unchecked Sendable {
    let folder: StateFolder
    let keep: Int
    /// States with a lower sequence belong to an earlier run and are never pruned.
    let keepingBelow: Int
    private let queue = DispatchQueue(label: "l2c-state-writer")
    private let lock = NSLock()
    private var failure: Error?
    private var lastWrite = 0.0
    var lastWriteSeconds: Double { lock.lock(); defer { lock.unlock() }; return lastWrite }

    init(folder: StateFolder, keep: Int, keepingBelow: Int) {
        self.folder = folder
        self.keep = keep
        self.keepingBelow = keepingBelow
    }

    /// The buffer of the last written snapshot, for the next one: in steady state rank 0 holds one copy of the state.
    private var spare: [Tensor] = []

    /// A buffer for the next snapshot's copy, from an earlier one when one is free.
    func takeBuffer() -> Tensor? {
        lock.lock(); defer { lock.unlock() }
        return spare.popLast()
    }

    /// Allocates (and faults in) a buffer of `count` floats on the writer thread, so that even the first
    /// snapshot only copies.
    func prepareBuffer(count: Int) {
        queue.async { [self] in
            lock.lock(); let needed = spare.first?.count != count; lock.unlock()
            guard needed else { return }
            let buffer = Tensor(shape: [count])
            lock.lock(); spare = [buffer]; lock.unlock()
        }
    }

    func submit(_ snapshot: Checkpoint.Snapshot, to path: String) {
        queue.async { [self] in
            let start = Date()
            do {
                try snapshot.write(to: path)
                folder.prune(keep: keep, from: keepingBelow)
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
            lock.lock()
            lastWrite = Date().timeIntervalSince(start)
            if spare.isEmpty { spare.append(snapshot.payload) }
            lock.unlock()
        }
    }

    /// Waits for the writes in flight; rethrows the first that failed.
    func finish() throws {
        queue.sync {}
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
    }

    /// Rethrows a failed earlier write without waiting.
    func checkFailure() throws {
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
    }
}
