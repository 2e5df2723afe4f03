import L2CComm
import L2CData
import L2CTensor

public enum OptimizerKind: String, CaseIterable, Sendable, Encodable {
    case adam
    case sgd
    /// SGD with momentum and a layer-wise trust ratio, for large global batches.
    case lars
}

/// How the learning rate decays after the warm-up.
public enum DecayKind: String, CaseIterable, Sendable, Encodable {
    /// × --lr-gamma every --lr-step steps (constant when --lr-step is 0).
    case step
    /// A cosine from --lr down to 0 at the last step.
    case cosine
    /// DANN's annealing: --lr / (1 + 10p)^0.75 over training progress p (Ganin & Lempitsky).
    case dann
}

/// How a network is optimised: shared by every training command.
public struct Optimization: Encodable, Sendable {
    public var globalBatch: Int = 100
    /// Either a step count or an epoch count; steps win when both are set.
    public var steps: Int?
    public var epochs: Int?
    /// Without --steps and --epochs: `defaultEpochs`, and at least `stepBudget` steps, so that a small training
    /// set still gets a network trained (20 classes × 10 images are 2 batches an epoch).
    public var defaultEpochs = 10
    public var stepBudget = 0
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    public var nesterov = false
    public var weightDecay: Float = 0
    /// Multiply the learning rate by `learningRateGamma` every `learningRateStep` steps (0: never).
    public var learningRateStep = 0
    public var learningRateGamma: Float = 0.1
    /// Steps of linear warm-up from --lr/W to --lr.
    public var warmupSteps = 0
    public var decay: DecayKind = .step
    /// LARS's trust coefficient τ.
    public var larsTrust: Float = 0.001
    public var seed: UInt64 = 1
    public var logEvery = 20
    /// BatchNorm statistics over the global batch (all-reduced), or over each rank's shard.
    public var synchronizedBatchNorm = true
    /// ResNets: start each residual block's last BatchNorm γ at 0.
    public var zeroResidualGamma = false
    /// Random geometric changes of each in-memory training image, keyed by (seed, step, sample).
    public var augmentation: SampleAugmentation = .none
    /// The ResNets' convolution arithmetic, as asked: fp32, bf16 or auto (resolved against the CPU).
    public var precision: Precision.Choice = .fp32

    public init() {}

    /// The default schedule: shuffled global batches of the whole training set, sharded over the ranks.
    public func sampler(sampleCount: Int, communicator comm: any Communicator) throws -> DistributedSampler {
        try DistributedSampler(sampleCount: sampleCount, globalBatch: globalBatch, rank: comm.rank, ranks: comm.size, seed: seed)
    }

    /// What the backbone's BatchNorm layers all-reduce their statistics over (nil: each rank its own), timed
    /// into `CollectiveTime.batchNorm` for the step breakdown.
    public func batchNormCommunicator(_ comm: any Communicator) -> (any Communicator)? {
        synchronizedBatchNorm ? TimedCommunicator(comm, into: .batchNorm) : nil
    }

    /// This rank's training images of `indices` at `step`, each augmented as `augmentation` draws it for
    /// (seed + stream, step, sample index); `stream` tells apart two datasets of one step (source and target).
    public func images(_ data: Dataset, _ indices: ArraySlice<Int>, step: Int, stream: UInt64 = 0) -> Tensor {
        augmentation.apply(data.batch(indices), samples: indices, step: step, seed: seed &+ stream)
    }

    /// ", images augmented by …" for a console line, or "".
    public var augmentationNote: String { augmentation == .none ? "" : ", images augmented by \(augmentation.name)" }

    /// The precision `architecture` computes in on this machine: fp32 for LeNet and the MLP (bf16 asked for them is
    /// an error), else `precision` resolved against the CPU (bf16 without native support is an error naming the
    /// missing ISA), the same on every rank (checked: a mixed cluster would train different models), logged.
    public func resolvedPrecision(_ architecture: Architecture, communicator comm: any Communicator) throws -> Precision {
        guard architecture.isResNet else {
            guard precision != .bf16 else { throw InputError("--precision", "bf16 applies to the ResNet backbones; \(architecture.rawValue) runs fp32") }
            return .fp32
        }
        let (resolved, reason) = try comm.checked("choosing the precision") { try Precision.resolve(precision) }
        try comm.requireAgreement("the precision --precision \(precision.rawValue) resolves to (1: bf16)", resolved == .bf16 ? 1 : 0)
        Console(rank: comm.rank).log("precision: \(reason)")
        return resolved
    }

    /// A network to train: `architecture` with `outputs`, in the resolved precision, BatchNorm synchronised as asked,
    /// initialised as asked.
    public func build(_ architecture: Architecture, channels: Int, height: Int, width: Int, outputs: Int, seed: UInt64,
                      communicator comm: any Communicator) throws -> Sequential {
        let model = architecture.build(channels: channels, height: height, width: width, outputs: outputs, seed: seed,
                                       precision: try resolvedPrecision(architecture, communicator: comm), communicator: batchNormCommunicator(comm))
        initialise(model)
        return model
    }

    /// Initialisation options that apply after a model is built.
    public func initialise(_ model: any Layer) {
        if zeroResidualGamma { ResNet.zeroResidualGammas(in: model) }
    }

    /// The fields of `Optimization` that may change when a run resumes: its length (a resumed run may be
    /// extended) and how often it logs. Every other one fixes the trajectory, the precision included (bf16 and
    /// fp32 runs differ from the first step).
    public static let changeableOnResume: Set<String> = ["steps", "epochs", "defaultEpochs", "stepBudget", "logEvery"]

    /// The command-line option of each field whose name differs from it, for messages.
    public static let optionNames = ["globalBatch": "batch-size", "learningRate": "lr", "learningRateStep": "lr-step",
                                     "learningRateGamma": "lr-gamma", "decay": "lr-schedule", "synchronizedBatchNorm": "local-batchnorm",
                                     "augmentation": "augment"]

    /// `changeableOnResume` as the field paths of an `Optimization` stored under `field` of a config.
    public static func changeableOnResume(under field: String) -> Set<String> {
        Set(changeableOnResume.map { "\(field).\($0)" })
    }

    public func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .sgd: return SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .lars: return LARS(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, trust: larsTrust)
        }
    }

    /// The learning rate of each of `totalSteps` steps.
    public func schedule(totalSteps: Int) -> LearningRateSchedule {
        LearningRateSchedule(base: learningRate, warmupSteps: warmupSteps,
                             decay: decayRule(totalSteps: totalSteps))
    }

    private func decayRule(totalSteps: Int) -> LearningRateSchedule.Decay {
        switch decay {
        case .step: return .step(period: learningRateStep, gamma: learningRateGamma)
        case .cosine: return .cosine(totalSteps: totalSteps)
        case .dann: return .dann(totalSteps: totalSteps)
        }
    }

    /// Steps to run over a training set of `batchesPerEpoch` global batches (default 10 epochs).
    public func plannedSteps(batchesPerEpoch: Int) throws -> Int {
        guard warmupSteps >= 0 else { throw InputError("--warmup-steps", "must be 0 or more, got \(warmupSteps)") }
        guard larsTrust > 0, larsTrust.isFinite else { throw InputError("--lars-trust", "must be a positive number, got \(larsTrust)") }
        if let steps {
            guard steps >= 1 else { throw InputError("--steps", "must be at least 1, got \(steps)") }
            return steps
        }
        if let epochs {
            guard epochs >= 1 else { throw InputError("--epochs", "must be at least 1, got \(epochs)") }
            return epochs * batchesPerEpoch
        }
        return max(defaultEpochs * batchesPerEpoch, stepBudget)
    }

    /// How the step count was chosen, for the console: "" when --steps or --epochs gave it.
    public func lengthReason(batchesPerEpoch: Int) -> String {
        guard steps == nil, epochs == nil, stepBudget > 0 else { return "" }
        let floor = defaultEpochs * batchesPerEpoch
        return stepBudget > floor
            ? " (default: a budget of \(stepBudget) steps, \(String(format: "%.0f", Double(stepBudget) / Double(batchesPerEpoch))) epochs of \(batchesPerEpoch) batches; --steps or --epochs override)"
            : " (default: \(defaultEpochs) epochs of \(batchesPerEpoch) batches, above the \(stepBudget)-step budget)"
    }
}
