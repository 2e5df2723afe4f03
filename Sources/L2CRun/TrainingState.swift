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
    /// The config's fields that must not change on resume, by field path (`ExperimentConfig.fixedOnResume`).
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

