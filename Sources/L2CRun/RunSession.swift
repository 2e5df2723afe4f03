import Foundation
import L2CComm
import L2CData
import L2CTensor

/// How a run saves its state, how many states it keeps, where it resumes from, when a stall ends it, and how
/// its ranks exchange gradients.
public struct RunPolicy: Encodable, Sendable {
    public enum Resume: Sendable, Equatable {
        /// The newest valid state in OUT/checkpoints (a fresh start when there is none yet).
        case newest
        /// A state file, or a folder of states.
        case path(String)
    }
    /// A state every this many steps of a loop (nil: by time only).
    public var everySteps: Int?
    /// A state when this many minutes have passed since the last one (0: never by time).
    public var minutes: Double = 30
    /// States kept in OUT/checkpoints, newest first.
    public var keep = 2
    public var resume: Resume?
    /// Seconds without a completed step before the job is aborted; nil: 10 × the slowest step, at least 120 s; 0: off.
    public var stallTimeout: Double?
    public var gradientExchange = GradientExchange()

    public init() {}

    /// Encoded as null: an experiment's config holds its run policy, but the ranks agree on it on their own
    /// (`RunSession`, with a message that names it), and it may change on resume.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }

    /// What every rank must agree on: states are written collectively at the same steps, and gradients
    /// travel in the same buckets.
    var fingerprint: String {
        ["\(everySteps ?? 0)", "\(minutes)", "\(keep)", "\(resume.map { "\($0)" } ?? "")", "\(stallTimeout ?? -1)",
         gradientExchange.fingerprint].joined(separator: "|")
    }

    public func validate(out: String?) throws {
        if let everySteps, everySteps < 1 { throw InputError("--checkpoint-every", "must be at least 1 step, got \(everySteps)") }
        guard minutes >= 0 else { throw InputError("--checkpoint-minutes", "must be 0 or more, got \(minutes)") }
        guard keep >= 1 else { throw InputError("--keep-checkpoints", "must be at least 1, got \(keep)") }
        if let stallTimeout, stallTimeout < 0 { throw InputError("--stall-timeout", "must be 0 (off) or more seconds, got \(stallTimeout)") }
        if resume == .newest && out == nil { throw InputError("--resume", "resumes from OUT/checkpoints: give --out") }
        try gradientExchange.validate()
    }
}

/// One run's lifecycle services, shared by every training loop of a command: the state it resumed from,
/// states written while it runs (by rank 0, in the background), phases already finished, stop signals and
/// the stall watchdog. Created on every rank after the ranks agreed on the configuration.
public final class RunSession {
    public let command: String
    public let communicator: any Communicator
    public let out: String?
    public let policy: RunPolicy
    /// The config's fields that must not change on resume, by field path (`ExperimentConfig.fixedOnResume`).
    let options: [String: String]
    /// The state this run continues from, identical on every rank.
    public let resumed: TrainingState?
    let watchdog: Watchdog
    let console: Console
    private let folder: StateFolder?
    private let writer: StateWriter?
    private var sequence: Int
    private var lastSave = Date()
    private var completed: [String: [String: String]] = [:]
    private var artefacts: [(phase: String, tensors: [(name: String, tensor: Tensor)])] = []
    /// The newest state written (or resumed from).
    public private(set) var latestState: String?

    /// Starts a run: every rank must hold the same `configuration` (a canonical text of all its options) and
    /// run options; then the state to resume from, if asked for, is found and loaded.
    public init(command: String, configuration: String, options: [String: String], out: String?, policy: RunPolicy,
                communicator comm: any Communicator) throws {
        try comm.requireAgreement("the configuration (every rank must get the same options)", stableHash(configuration))
        self.command = command
        self.options = options
        self.out = out
        self.policy = policy
        communicator = comm
        console = Console(rank: comm.rank)
        // Agreement first: then every rank validates the same options and fails (or not) together.
        try comm.requireAgreement("the run options (checkpoints, resume, stall timeout, gradient exchange)", stableHash(policy.fingerprint))
        try policy.validate(out: out)
        let folder = out.map(StateFolder.init(out:))
        self.folder = folder
        watchdog = Watchdog(timeout: policy.stallTimeout, communicator: comm)
        StopSignal.install()
        // Rank 0 finds the state (reporting corrupt ones); every rank then loads the same file.
        let chosen = try comm.checked("finding the state to resume from") { () -> String in
            guard comm.isRoot, let resume = policy.resume else { return "" }
            let console = Console(rank: comm.rank)
            switch resume {
            case .newest:
                let state = try folder!.newestValid { console.log("warning: \($0)") }
                if state == nil { console.log("note: --resume: no state in \(folder!.path) yet, starting from the beginning") }
                return state?.path ?? ""
            case .path(let path):
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw InputError(path, "no such state file or folder") }
                guard isFolder.boolValue else { return try TrainingState.load(path).path }
                guard let state = try StateFolder.named(path).newestValid(report: { console.log("warning: \($0)") }) else {
                    throw InputError(path, "holds no training state (state-*.safetensors)")
                }
                return state.path
            }
        }
        let path = comm.broadcast(chosen)
        resumed = try comm.checked("loading the training state") { () -> TrainingState? in
            path.isEmpty ? nil : try TrainingState.load(path)
        }
        let earlier = folder?.states() ?? []
        sequence = Int(comm.max(Int64((earlier.first?.sequence ?? 0) + 1)))
        // A resumed run continues the lineage of states and keeps the newest of them; a fresh run into a folder
        // with an earlier run's states leaves those alone (nothing already written is lost) and prunes only its own.
        let firstOwn = resumed == nil ? sequence : 0
        writer = comm.isRoot ? folder.map { StateWriter(folder: $0, keep: policy.keep, keepingBelow: firstOwn) } : nil
        if resumed == nil, !earlier.isEmpty {
            console.log("note: \(folder!.path) holds \(earlier.count) state(s) of an earlier run; they are kept (--resume would continue the newest)")
        }
        if let resumed {
            try checkResumable(resumed)
            completed = resumed.completed
            latestState = resumed.path
            console.log("resuming from \(resumed.path): \(resumed.phase) step \(resumed.step)")
        }
    }

    /// The options that fix the trajectory must be the ones the state was written with.
    private func checkResumable(_ state: TrainingState) throws {
        guard state.command == command else {
            throw InputError("--resume", "\(state.path) is a state of `l2c \(state.command)`, this is `l2c \(command)`")
        }
        for option in Set(options.keys).union(state.options.keys).sorted() {
            let (saved, value) = (state.options[option] ?? "(not set)", options[option] ?? "(not set)")
            guard saved == value else {
                let name = Self.optionName(field: option)
                throw InputError(name, "the state \(state.path) was written with \(name) \(saved), this run has \(value); it cannot change on --resume (start a new --out instead)")
            }
        }
    }

    /// A config field as the command-line option it comes from: `optimization.seed` → `--seed`,
    /// `optimization.globalBatch` → `--batch-size`, `training.spnOptimization.learningRate` → `--lr (training.spn-optimization)`.
    public static func optionName(field path: String) -> String {
        func kebab(_ name: Substring) -> String {
            name.reduce(into: "") { text, c in text += c.isUppercase ? "-\(c.lowercased())" : String(c) }
        }
        let parts = path.split(separator: ".")
        let leaf = "--" + (parts.last.flatMap { Optimization.optionNames[String($0)] } ?? kebab(parts.last ?? ""))
        let parent = parts.dropLast().filter { $0 != "optimization" }.map(kebab).joined(separator: ".")
        return parent.isEmpty ? leaf : "\(leaf) (\(parent))"
    }

    /// Makes a freshly built network identical on every rank: the ranks check they built the same names and
    /// shapes, then take rank 0's initial values.
    public func replicate(_ tensors: [(name: String, tensor: Tensor)], what: String) throws {
        try communicator.requireAgreement("the \(what) parameter shapes", stableHash(ParameterSync.shapeSignature(tensors)))
        ParameterSync.broadcastFromRoot(tensors, communicator)
    }

    /// Opens OUT/metrics.jsonl on rank 0 (creating OUT); a no-op log elsewhere or without OUT. A resumed run
    /// appends to the log of the run it continues.
    public func openMetricsLog() throws -> MetricsLog {
        let comm = communicator
        return try comm.checked("opening the metrics log") { () -> MetricsLog in
            guard comm.isRoot, let out else { return try MetricsLog(path: nil) }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            return try MetricsLog(path: (out as NSString).appendingPathComponent("metrics.jsonl"), append: resumed != nil)
        }
    }

    /// Writes OUT/`name` (rank 0; every rank learns whether it worked) and returns its path; nil without OUT.
    public func writeCheckpoint(_ name: String, tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) throws -> String? {
        guard let out else { return nil }
        let path = (out as NSString).appendingPathComponent(name)
        try communicator.checked("writing \(path)") {
            if communicator.isRoot { try Checkpoint.save(path, tensors: tensors, metadata: metadata) }
        }
        return path
    }

    // MARK: finished phases

    /// The record of a phase finished before the run stopped, nil if it has not finished.
    public func completedRecord(_ phase: String) -> [String: String]? { completed[phase] }

    /// Copies a finished phase's saved tensors into `tensors`.
    public func restoreCompleted(_ phase: String, into tensors: [(name: String, tensor: Tensor)]) throws {
        guard let resumed else { throw InputError("--resume", "no state holds phase \(phase)") }
        try Checkpoint.restore(resumed.tensors(prefixed: phase), into: tensors, path: resumed.path)
    }

    /// Marks `phase` finished: its record, and the tensors later phases need (saved as `<phase>.<name>`), go
    /// into every state written from now on.
    public func complete(_ phase: String, record: [String: String] = [:], tensors: [(name: String, tensor: Tensor)] = []) {
        completed[phase] = record
        artefacts.removeAll { $0.phase == phase }
        if !tensors.isEmpty { artefacts.append((phase, tensors)) }
    }

    /// The state of `phase` to continue from, if the run resumed inside it.
    package func resumePoint(_ phase: String) -> TrainingState? { resumed?.phase == phase ? resumed : nil }

    // MARK: saving

    /// Readies rank 0's copy buffer for states of `tensors` (plus the finished phases' artefacts) in the background.
    func prepareStates(of tensors: [(name: String, tensor: Tensor)]) {
        guard let writer else { return }
        writer.prepareBuffer(count: (tensors + artefacts.flatMap(\.tensors)).reduce(0) { $0 + $1.tensor.count })
    }

    /// Whether a state is due by time on this rank (only rank 0's clock counts; the decision travels to
    /// every rank with the gradient all-reduce).
    var dueByTime: Bool {
        communicator.isRoot && out != nil && policy.minutes > 0 && Date().timeIntervalSince(lastSave) >= policy.minutes * 60
    }

    /// Writes a state (collectively: every rank calls it at the same step). Rank 0 copies the tensors and
    /// hands them to its writer thread; `wait` blocks until the file is on disk.
    @discardableResult
    func save(phase: String, step: Int, tensors: [(name: String, tensor: Tensor)], optimizerSteps: Int,
              phaseState: [String: String], wait: Bool) throws -> (path: String, pauseSeconds: Double)? {
        guard let folder else { return nil }
        let path = folder.file(sequence: sequence, phase: phase, step: step)
        sequence += 1
        lastSave = Date()
        let start = Date()
        try communicator.checked("writing the training state \(path)") {
            guard let writer else { return }
            try writer.checkFailure()
            let all = tensors + artefacts.flatMap { entry in entry.tensors.map { (name: "\(entry.phase).\($0.name)", tensor: $0.tensor) } }
            let metadata = TrainingState.metadata(command: command, phase: phase, step: step, optimizerSteps: optimizerSteps, options: options,
                                                  phaseState: phaseState, completed: completed, ranks: communicator.size)
            writer.submit(Checkpoint.Snapshot(all, metadata: metadata, reusing: writer.takeBuffer()), to: path)
            if wait { try writer.finish() }
        }
        latestState = path
        return (path, Date().timeIntervalSince(start))
    }

    /// Seconds rank 0's writer thread took for the last state it finished (hash, write, fsync, rename), 0 elsewhere.
    var lastWriteSeconds: Double { writer?.lastWriteSeconds ?? 0 }

    /// Waits for the states in flight; every rank learns whether they were written.
    public func finish() throws {
        watchdog.disarm()
        try communicator.checked("writing the training state") { try writer?.finish() }
    }
}

/// An absolute path without `.`/`..`, so that a resumed run may name its files relative to another folder.
func canonicalPath(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
