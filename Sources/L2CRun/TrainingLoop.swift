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
    /// The body marks its laps here (input, forward, loss, backward) for the step's time breakdown.
    public let timer: StepTimer

    public init(step: Int, epoch: Int, localIndices: ArraySlice<Int>, globalIndices: ArraySlice<Int>, pass: Pass, timer: StepTimer) {
        (self.step, self.epoch, self.localIndices, self.globalIndices, self.pass, self.timer) = (step, epoch, localIndices, globalIndices, pass, timer)
    }
}

/// The data-parallel optimisation loop shared by every trainer: sharded global batches, zeroed gradients,
/// the caller's forward/backward, all-reduced gradients, the optimiser step, logging, and the run's
/// lifecycle: training states on schedule and on stop signals, resume, the stall watchdog.
public final class TrainingLoop {
    public let communicator: any Communicator
    public let schedule: any BatchSchedule
    public let steps: Int
    /// The name of this loop in training states ("train", "spn", "cluster", "cluster.3", …).
    public var phase: String { spec.name }
    var optimization: Optimization { spec.optimization }
    var parameters: [(name: String, parameter: Parameter)] { spec.parameters }
    /// The step every iteration runs; setting it up moves the parameters into one buffer each.
    let stepper: TrainingStep
    var optimizer: any Optimizer { stepper.optimizer }
    let session: RunSession
    let log: MetricsLog
    /// What the loop trains, and what it saves of it.
    let spec: Phase
    let console: Console
    var label: String { spec.label }

    /// The loop of `phase` (`ExperimentRun.begin` sets it up): global batches shuffled from its samples unless its
    /// schedule says otherwise, the gradient all-reduce overlapping the backward pass of its `overlapping` network.
    init(_ phase: Phase, log: MetricsLog, session: RunSession) throws {
        let comm = session.communicator
        communicator = comm
        spec = phase
        // Stop requests (one slot per signal) and rank 0's "a state is due by time" ride on the gradients.
        stepper = TrainingStep(parameters: phase.parameters, overlapping: phase.overlapping, optimizer: phase.optimization.makeOptimizer(),
                               exchange: session.policy.gradientExchange, controls: StopSignal.handled.count + 1, communicator: comm)
        self.session = session
        self.log = log
        console = Console(rank: comm.rank)
        self.schedule = try phase.schedule ?? comm.checked("setting up the sampler") {
            try phase.optimization.sampler(sampleCount: phase.sampleCount, communicator: comm)
        }
        guard self.schedule.globalBatch % comm.size == 0 else {
            throw InputError("--batch-size", "global batch \(self.schedule.globalBatch) is not divisible by the \(comm.size) ranks")
        }
        steps = try phase.optimization.plannedSteps(batchesPerEpoch: self.schedule.batchesPerEpoch)
    }

    public var localBatch: Int { schedule.globalBatch / communicator.size }

    /// The step this loop starts at: 0, or where the state it resumes from stopped.
    public var firstStep: Int { session.resumePoint(phase)?.step ?? 0 }

    /// Runs every step; `body` does forward and backward for its batch and returns the (global) loss.
    public func run(_ body: (StepBatch) throws -> Double) throws -> (lastLoss: Double, seconds: Double) {
        let comm = communicator
        // Read now: setting up the loop moved the parameters into its flat buffers.
        let state = (tensors: spec.tensors() + spec.stateTensors, save: spec.save, restore: spec.restore)
        var lastLoss = Double.nan
        var secondsBefore = 0.0
        let first = firstStep
        if let resumed = session.resumePoint(phase) {
            guard resumed.step <= steps else {
                throw InputError(optimization.steps != nil ? "--steps" : "--epochs",
                                  "\(resumed.path) is at \(phase) step \(resumed.step), beyond the \(steps) steps this run asks for")
            }
            try comm.checked("restoring the training state") {
                try Checkpoint.restore(resumed.contents, into: state.tensors + optimizer.namedState(parameters), path: resumed.path)
                optimizer.stepCount = resumed.optimizerSteps
                try state.restore(resumed.phaseState)
            }
            lastLoss = resumed.phaseState["loop.loss"].flatMap(Double.init) ?? .nan
            secondsBefore = resumed.phaseState["loop.seconds"].flatMap(Double.init) ?? 0
        }
        let start = Date()
        let local = localBatch
        var batches: [[Int]] = []
        var checkpointPause = 0.0   // charged to the next step's breakdown
        let saveState = { (step: Int, wait: Bool) throws -> String? in
            var phaseState = state.save()
            phaseState["loop.loss"] = "\(lastLoss)"
            phaseState["loop.seconds"] = "\(secondsBefore + Date().timeIntervalSince(start))"
            // For a reader of the state; both follow from the step on resume.
            phaseState["loop.epoch"] = "\(step / self.schedule.batchesPerEpoch)"
            phaseState["loop.lr"] = "\(self.optimization.schedule(totalSteps: self.steps).learningRate(atStep: step))"
            guard let saved = try self.session.save(phase: self.phase, step: step, tensors: state.tensors + self.optimizer.namedState(self.parameters),
                                                    optimizerSteps: self.optimizer.stepCount, phaseState: phaseState, wait: wait) else { return nil }
            checkpointPause += saved.pauseSeconds
            self.log.write(["phase": "checkpoint", "loop": self.phase, "step": step, "state": saved.path,
                            "pause_seconds": JSONLine.round(saved.pauseSeconds, digits: 4),
                            "previous_write_seconds": JSONLine.round(self.session.lastWriteSeconds, digits: 4)])
            return saved.path
        }
        if steps > first { session.prepareStates(of: state.tensors + optimizer.namedState(parameters)) }
        var breakdown = StepBreakdown()
        let learningRates = optimization.schedule(totalSteps: steps)
        session.watchdog.arm(label: label, step: first)
        defer { session.watchdog.disarm() }
        defer { stepper.close() }
        for step in first..<steps {
            let epoch = step / schedule.batchesPerEpoch, batchIndex = step % schedule.batchesPerEpoch
            if batchIndex == 0 || batches.isEmpty { batches = schedule.epochBatches(epoch) }
            let global = batches[batchIndex]
            let timer = StepTimer()
            timer.add(.checkpoint, checkpointPause)
            checkpointPause = 0
            let batch = StepBatch(step: step, epoch: epoch, localIndices: comm.share(of: global),
                                  globalIndices: global[...],
                                  pass: Pass(training: true, sampleOffset: comm.rank * local, step: step), timer: timer)
            let done = try stepper.run(batch, learningRate: learningRates.learningRate(atStep: step), body) { loss in
                guard loss.isFinite else { throw InputError("--lr", "\(self.label): the loss became \(loss) at step \(step + 1); lower the learning rate") }
                return StopSignal.requestSlots + [self.session.dueByTime ? 1 : 0]
            }
            lastLoss = done.loss
            let control = done.control
            breakdown.add(timer)
            session.watchdog.progress(step: step + 1)
            if (step + 1) % max(optimization.logEvery, 1) == 0 || step + 1 == steps {
                let elapsed = Date().timeIntervalSince(start)
                log.write(["phase": label, "step": step + 1, "epoch": epoch, "loss": JSONLine.round(lastLoss),
                           "lr": Double(optimizer.learningRate), "seconds": JSONLine.round(secondsBefore + elapsed, digits: 4)]
                          .merging(breakdown.report()) { a, _ in a })
                console.log(String(format: "%@ step %d/%d  epoch %d  loss %.5f  %.1f img/s", label, step + 1, steps, epoch, lastLoss,
                                   Double((step + 1 - first) * schedule.globalBatch) / max(elapsed, 1e-9)))
            }
            if let signal = StopSignal.signal(fromSummed: control[0..<StopSignal.handled.count]) {
                session.watchdog.disarm()   // the step boundary is reached; writing the state may take longer than a step
                let path = try saveState(step + 1, true)
                throw StopRequested(step: step + 1, signal: signal, statePath: path)
            }
            let dueByCount = session.policy.everySteps.map { (step + 1) % $0 == 0 } ?? false
            if (dueByCount || control[StopSignal.handled.count] > 0) && step + 1 < steps { _ = try saveState(step + 1, false) }
        }
        // The state at the end of the loop (unless the run resumed from exactly there).
        if steps > first { _ = try saveState(steps, false) }
        return (lastLoss, secondsBefore + Date().timeIntervalSince(start))
    }
}
