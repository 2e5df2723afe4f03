import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

extension OptimizerKind: ExpressibleByArgument {}
extension DecayKind: ExpressibleByArgument {}
extension Precision.Choice: ExpressibleByArgument {}
extension SampleAugmentation: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { name }
}

/// The optimisation options every training command shares.
struct OptimizationOptions: ParsableArguments {
    @Option(name: .customLong("batch-size"), help: "Global minibatch, split evenly over the ranks (must be divisible by the rank count).")
    var batchSize: Int = 100

    @Option(help: "Optimisation steps (overrides --epochs).")
    var steps: Int?

    @Option(help: "Epochs over the training set (default: 10, for transfer's clustering network 15; train-spn, cluster and transfer train at least \(CrossTask.stepBudget) steps).")
    var epochs: Int?

    @Option(help: "Optimiser: adam, sgd or lars (SGD with momentum and a layer-wise trust ratio, for large batches).")
    var optimizer: OptimizerKind = .adam

    @Option(name: .customLong("lr"), help: "Learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(help: "Nesterov momentum for SGD.")
    var nesterov = false

    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (not applied to biases and BatchNorm).")
    var weightDecay: Float = 0

    @Option(name: .customLong("lr-step"), help: "Multiply the learning rate by --lr-gamma every this many steps (0: constant).")
    var learningRateStep = 0

    @Option(name: .customLong("lr-gamma"), help: "Factor of the step learning-rate schedule.")
    var learningRateGamma: Float = 0.1

    @Option(name: .customLong("warmup-steps"), help: "Raise the learning rate linearly from --lr/N to --lr over the first N steps (large batches: the linear scaling rule needs it).")
    var warmupSteps = 0

    @Option(name: .customLong("lr-schedule"), help: "After the warm-up: step (× --lr-gamma every --lr-step steps), cosine (down to 0 at the last step) or dann (--lr/(1+10p)^0.75 over progress p, as DANN anneals).")
    var decay: DecayKind = .step

    @Option(name: .customLong("lars-trust"), help: "LARS trust coefficient τ: each layer's rate is --lr · τ · ‖w‖ / (‖∇‖ + weight decay · ‖w‖).")
    var larsTrust: Float = 0.001

    @Option(help: "Seed for initialisation, shuffling and dropout: a seeded run is reproducible.")
    var seed: UInt64 = 1

    @Option(name: .customLong("log-every"), help: "Log every this many steps.")
    var logEvery = 20

    @Flag(name: .customLong("local-batchnorm"), help: "BatchNorm statistics per rank instead of over the global batch (then R ranks × B no longer equals 1 rank × R·B).")
    var localBatchNorm = false

    @Flag(name: .customLong("zero-residual-gamma"), help: "ResNets: start each residual block's last BatchNorm γ at 0 (each block starts as the identity).")
    var zeroResidualGamma = false

    @Option(help: "Random changes of each training image: none, or a comma-separated list of affine (rotation ±10°, scale 0.9–1.1, shear ±10°, shift ±10%), crop (a shift of up to ±size/8 pixels), flip (a horizontal mirror, not for digits or letters) and jitter (contrast × 0.6–1.4, brightness ± 0.2 of the 0–1 range); drawn from (seed, step, sample), so independent of the rank count.")
    var augment: SampleAugmentation = .none

    @Option(help: "ResNets: fp32, bf16 (convolutions on bf16 operands by oneDNN's native kernels; an error where the CPU has no AVX512_BF16 or AMX) or auto (bf16 where native).")
    var precision: Precision.Choice = .fp32

    var settings: Optimization {
        var o = Optimization()
        o.globalBatch = batchSize
        o.steps = steps
        o.epochs = epochs
        o.optimizer = optimizer
        o.learningRate = learningRate
        o.momentum = momentum
        o.nesterov = nesterov
        o.weightDecay = weightDecay
        o.learningRateStep = learningRateStep
        o.learningRateGamma = learningRateGamma
        o.warmupSteps = warmupSteps
        o.decay = decay
        o.larsTrust = larsTrust
        o.seed = seed
        o.logEvery = max(1, logEvery)
        o.synchronizedBatchNorm = !localBatchNorm
        o.zeroResidualGamma = zeroResidualGamma
        o.augmentation = augment
        o.precision = precision
        return o
    }
}
