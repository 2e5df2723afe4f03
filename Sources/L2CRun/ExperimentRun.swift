import Foundation
import L2CComm
import L2CData
import L2CTensor

/// One run of an experiment on every rank, from start to final JSON line. Every command's driver goes through it,
/// so that the lifecycle exists once:
/// 1. `init`: the ranks agree on the config's fingerprint and the run policy, and the state to resume from is
///    found and checked against the config's fixed fields (`RunSession`);
/// 2. each `Phase`: `begin` (replicate, restore if finished before, or set up its loop), the loop's `run`, `complete`;
/// 3. `finish`: the states in flight are written;
/// 4. `saveModel`: the networks, with the metadata `l2c eval` rebuilds them from (`ModelCard`);
/// 5. `report`: the final JSON line, with the keys every command shares.
public final class ExperimentRun {
    public let session: RunSession
    public let console: Console
    private var metrics: MetricsLog?
    private var savedModel: String?

    public var communicator: any Communicator { session.communicator }
    public var command: String { session.command }

    public init<Config: ExperimentConfig>(_ command: String, config: Config, out: String?, policy: RunPolicy,
                                          communicator: any Communicator) throws {
        session = try RunSession(command: command, configuration: config.fingerprint, options: config.fixedOnResume, out: out,
                                 policy: policy, communicator: communicator)
        console = Console(rank: communicator.rank)
    }

    /// OUT/metrics.jsonl on rank 0, opened the first time it is asked for (a resumed run appends to it).
    public func log() throws -> MetricsLog {
        if let metrics { return metrics }
        let opened = try session.openMetricsLog()
        metrics = opened
        return opened
    }

    /// Waits for the training states in flight; every rank learns whether they were written.
    public func finish() throws { try session.finish() }

    // MARK: phases

    /// Sets `phase` up: its network becomes rank 0's on every rank (the ranks check they built the same shapes);
    /// if the phase keeps its result and the run finished it before it stopped, its network is restored from the
    /// state and nil returned; otherwise its loop, which `run` drives over the planned steps (continuing a state of
    /// the phase the run resumed from).
    public func begin(_ phase: Phase) throws -> TrainingLoop? {
        try session.replicate(phase.tensors(), what: phase.what)
        if phase.keepsResult, session.completedRecord(phase.name) != nil {
            try communicator.checked("restoring the finished phase \(phase.name)") { try session.restoreCompleted(phase.name, into: phase.tensors()) }
            console.log("\(phase.label): phase \(phase.name) finished before the run stopped, restored from the state")
            return nil
        }
        return try TrainingLoop(phase, log: try log(), session: session)
    }

    /// Marks `phase` finished: its `record`, and its network when it keeps its result, go into every state from now on.
    public func complete(_ phase: Phase, record: [String: String] = [:]) {
        session.complete(phase.name, record: record, tensors: phase.keepsResult ? phase.tensors() : [])
    }

    /// Marks the phase `name` finished with what the driver recorded of it (an alphabet's scores).
    public func complete(_ name: String, record: [String: String]) { session.complete(name, record: record) }

    /// The record of a phase the run finished before it stopped, nil if it has not finished.
    public func completedRecord(_ phase: String) -> [String: String]? { session.completedRecord(phase) }

    /// Writes OUT/`name` (nil without OUT) with `metadata` (a `ModelCard`'s, or a similarity network's). The report's
    /// `checkpoint` is the last model saved as `reported`: the network the command is for, not a by-product.
    @discardableResult
    public func saveModel(_ name: String = "model.safetensors", tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                          reported: Bool = true) throws -> String? {
        let path = try session.writeCheckpoint(name, tensors: tensors, metadata: metadata)
        if reported { savedModel = path }
        return path
    }

    /// The final JSON line: the command's own values (an `Encodable` report), and the keys every command shares
    /// (`RunSummary`: `ranks`, `global_batch`, `state`, `checkpoint`).
    public func report<Values: Encodable>(_ values: Values, globalBatch: Int) -> [String: Any] {
        Parts(values, RunSummary(ranks: communicator.size, globalBatch: globalBatch, state: session.latestState, checkpoint: savedModel)).jsonObject
    }
}

/// What a saved network says about itself, so that `l2c eval` can rebuild it: `format` l2c-1 (a clustering or
/// classification network; a similarity network is l2c-spn-1), the architecture, its outputs and input shape, the
/// loss it learnt, and what the command adds (ACOL's layout, a transfer run's classes, …).
public struct ModelCard {
    public var format = "l2c-1"
    public var architecture: String
    public var outputs: Int?
    public var channels: Int
    public var height: Int
    public var width: Int
    public var loss: String?
    public var extra: [String: String] = [:]

    public init(architecture: Architecture, outputs: Int?, channels: Int, height: Int, width: Int, loss: String?, extra: [String: String] = [:]) {
        self.architecture = architecture.rawValue
        self.outputs = outputs
        (self.channels, self.height, self.width) = (channels, height, width)
        self.loss = loss
        self.extra = extra
    }

    public var metadata: [String: String] {
        var metadata = ["format": format, "model": architecture, "channels": "\(channels)", "height": "\(height)", "width": "\(width)"]
        if let outputs { metadata["outputs"] = "\(outputs)" }
        if let loss { metadata["loss"] = loss }
        return metadata.merging(extra) { mine, _ in mine }
    }
}
