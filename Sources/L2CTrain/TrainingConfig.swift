import L2CTensor

/// The supervision a clustering network trains with.
public enum LossKind: String, CaseIterable, Sendable {
    /// Cross-entropy on class labels (the supervised upper bound).
    case ce
    /// KL-divergence contrastive loss on pairwise constraints derived from the labels.
    case kcl
    /// Meta classification likelihood on pairwise constraints derived from the labels.
    case mcl
}

public enum OptimizerKind: String, CaseIterable, Sendable {
    case adam
    case sgd
}

/// Everything a `l2c train` run depends on. Identical on every rank (checked).
public struct TrainingConfig: Sendable {
    public var data: String
    /// Where the test split comes from (default: `data`; the t10k files of a folder, or the CSV file itself).
    public var testData: String?
    /// Label column of CSV files (default: the last).
    public var labelColumn: Int?
    public var model: Architecture = .lenet
    public var loss: LossKind = .kcl
    public var clusters: Int = 10
    public var globalBatch: Int = 100
    /// Either a step count or an epoch count; steps win when both are set.
    public var steps: Int?
    public var epochs: Int?
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    public var nesterov = false
    public var weightDecay: Float = 0
    /// Multiply the learning rate by `learningRateGamma` every `learningRateStep` steps (0: never).
    public var learningRateStep = 0
    public var learningRateGamma: Float = 0.1
    public var seed: UInt64 = 1
    public var out: String?
    public var logEvery = 20
    public var evaluate = true

    public init(data: String) { self.data = data }

    /// A canonical text of every setting that must agree across ranks.
    public var fingerprint: String {
        [data, testData ?? "", "\(labelColumn ?? -1)", model.rawValue, loss.rawValue, "\(clusters)", "\(globalBatch)", "\(steps ?? -1)", "\(epochs ?? -1)",
         optimizer.rawValue, "\(learningRate)", "\(momentum)", "\(nesterov)", "\(weightDecay)", "\(learningRateStep)",
         "\(learningRateGamma)", "\(seed)", out ?? "", "\(evaluate)"].joined(separator: "|")
    }

    public func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay)
        case .sgd: return SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        }
    }
}

/// A configuration that cannot run, named by its option.
public struct ConfigError: Error, CustomStringConvertible {
    public let option: String
    public let message: String
    public init(_ option: String, _ message: String) {
        self.option = option
        self.message = message
    }
    public var description: String { "\(option): \(message)" }
}
