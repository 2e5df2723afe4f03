import L2CCluster
import L2CComm
import L2CData
import L2CTensor

/// A phase of an experiment: a network trained for its planned steps on batches of some data, under a name in the
/// training states ("train", "spn", "cluster.3"). `ExperimentRun.begin` owns its lifecycle: the ranks take the same
/// initial network, a phase the run finished before it stopped is restored instead of trained, and its loop
/// (`TrainingLoop`) continues a state of it the run resumed from.
public struct Phase {
    /// The name in training states and in the record of finished phases.
    public var name: String
    /// The prefix of its log lines ("train", "spn", "cluster").
    public var label: String
    /// What the network is called in messages ("model's", "SPN's").
    public var what: String
    public var optimization: Optimization
    /// The samples its global batches are drawn from (shuffled, sharded over the ranks), unless `schedule` says otherwise.
    public var sampleCount: Int
    public var schedule: (any BatchSchedule)?
    /// The network's tensors: parameters and buffers (BatchNorm running statistics), saved in its states. Read when
    /// needed: the loop moves the parameters into flat buffers when it is set up.
    public var tensors: () -> [(name: String, tensor: Tensor)]
    public var parameters: [(name: String, parameter: Parameter)]
    /// The network whose backward pass the gradient all-reduce overlaps (nil: the all-reduce follows the step).
    public var overlapping: Sequential?
    /// A phase whose network later phases need: once finished it is kept in every state, and a run resumed after
    /// it restores it instead of training it again.
    public var keepsResult = false
    /// Tensors of the driver's own state of the phase (the SPN's best state so far): saved in its states, not part of
    /// its result.
    public var stateTensors: [(name: String, tensor: Tensor)] = []
    /// The driver's own state of the phase, saved with it (strings in the state's metadata).
    public var save: () -> [String: String] = { [:] }
    public var restore: ([String: String]) throws -> Void = { _ in }

    /// A phase that trains `network` as a whole.
    public init(_ name: String, label: String? = nil, network: Sequential, what: String, optimization: Optimization, sampleCount: Int,
                schedule: (any BatchSchedule)? = nil) {
        self.name = name
        self.label = label ?? name
        self.what = what
        self.optimization = optimization
        self.sampleCount = sampleCount
        self.schedule = schedule
        tensors = { network.stateTensors }
        parameters = network.parameters
        overlapping = network
    }

    /// The step of most phases: this rank's inputs and the batch's targets, forward, the objective over the global
    /// batch, backward; returns the global loss.
    public static func step(_ network: Sequential, _ objective: any Objective, communicator: any Communicator,
                            batch: @escaping (StepBatch) throws -> (input: Tensor, targets: ObjectiveTargets)) -> (StepBatch) throws -> Double {
        { step in
            let (input, targets) = try batch(step)
            step.timer.lap(.input)
            let outputs = network.forward(input, step.pass)
            step.timer.lap(.forward)
            let result = objective.evaluate(outputs, targets, communicator: communicator)
            step.timer.lap(.loss)
            _ = network.backward(result.gradOutputs)
            step.timer.lap(.backward)
            return result.loss
        }
    }
}
