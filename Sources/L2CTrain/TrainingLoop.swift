import Foundation
import L2CComm
import L2CData
import L2CTensor

/// What one rank sees of one optimisation step.
public struct StepBatch {
    public let step: Int
    public let epoch: Int
    /// This rank's samples.
    public let localIndices: ArraySlice<Int>
    /// The whole global batch, every rank's shard in rank order.
    public let globalIndices: ArraySlice<Int>
    public let pass: Pass
}

/// The data-parallel optimisation loop shared by every trainer: sharded global batches, zeroed gradients,
/// the caller's forward/backward, all-reduced gradients, the optimiser step, logging.
public final class TrainingLoop {
    public let communicator: any Communicator
    public let schedule: any BatchSchedule
    public let steps: Int
    let optimization: Optimization
    let parameters: [(name: String, parameter: Parameter)]
    let optimizer: any Optimizer
    let log: MetricsLog
    let console: Console
    let label: String

    /// `label` prefixes log lines ("train", "spn", "cluster"). Global batches are shuffled from the whole
    /// training set unless a `schedule` says otherwise.
    public init(label: String, sampleCount: Int, optimization: Optimization, parameters: [(name: String, parameter: Parameter)],
                log: MetricsLog, schedule: (any BatchSchedule)? = nil, communicator comm: any Communicator) throws {
        communicator = comm
        self.label = label
        self.optimization = optimization
        self.parameters = parameters
        self.log = log
        console = Console(rank: comm.rank)
        self.schedule = try schedule ?? comm.checked("setting up the sampler") {
            try optimization.sampler(sampleCount: sampleCount, communicator: comm)
        }
        guard self.schedule.globalBatch % comm.size == 0 else {
            throw ConfigError("--batch-size", "global batch \(self.schedule.globalBatch) is not divisible by the \(comm.size) ranks")
        }
        steps = try optimization.plannedSteps(batchesPerEpoch: self.schedule.batchesPerEpoch)
        optimizer = optimization.makeOptimizer()
    }

    public var localBatch: Int { schedule.globalBatch / communicator.size }

    /// Runs every step; `body` does forward and backward for its batch and returns the (global) loss.
    public func run(_ body: (StepBatch) throws -> Double) throws -> (lastLoss: Double, seconds: Double) {
        let comm = communicator
        var packed: Tensor?
        var lastLoss = 0.0
        let start = Date()
        let local = localBatch
        var batches: [[Int]] = []
        for step in 0..<steps {
            let epoch = step / schedule.batchesPerEpoch, batchIndex = step % schedule.batchesPerEpoch
            if batchIndex == 0 { batches = schedule.epochBatches(epoch) }
            let global = batches[batchIndex]
            for (_, p) in parameters { p.gradient.zero() }
            let batch = StepBatch(step: step, epoch: epoch, localIndices: global[(comm.rank * local)..<((comm.rank + 1) * local)],
                                  globalIndices: global[...],
                                  pass: Pass(training: true, sampleOffset: comm.rank * local, step: step))
            lastLoss = try body(batch)
            guard lastLoss.isFinite else { throw ConfigError("--lr", "\(label): the loss became \(lastLoss) at step \(step + 1); lower the learning rate") }
            ParameterSync.allReduceGradients(parameters, comm, packed: &packed)
            optimizer.learningRate = optimization.schedule.learningRate(atStep: step)
            optimizer.step(parameters)
            if (step + 1) % max(optimization.logEvery, 1) == 0 || step + 1 == steps {
                let elapsed = Date().timeIntervalSince(start)
                log.write(["phase": label, "step": step + 1, "epoch": epoch, "loss": JSONLine.round(lastLoss),
                           "lr": Double(optimizer.learningRate), "seconds": JSONLine.round(elapsed, digits: 4)])
                console.log(String(format: "%@ step %d/%d  epoch %d  loss %.5f  %.1f img/s", label, step + 1, steps, epoch, lastLoss,
                                   Double((step + 1) * schedule.globalBatch) / max(elapsed, 1e-9)))
            }
        }
        return (lastLoss, Date().timeIntervalSince(start))
    }
}

/// Opens OUT/metrics.jsonl on rank 0 (creating OUT); a no-op log elsewhere or without OUT.
public func openMetricsLog(out: String?, communicator comm: any Communicator) throws -> MetricsLog {
    try comm.checked("opening the metrics log") { () -> MetricsLog in
        guard comm.isRoot, let out else { return try MetricsLog(path: nil) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        return try MetricsLog(path: (out as NSString).appendingPathComponent("metrics.jsonl"))
    }
}
