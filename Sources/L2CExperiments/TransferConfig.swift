import L2CCluster
import L2CRun
import L2CTensor

/// `l2c transfer`: the whole cross-task protocol on one dataset split by classes.
public struct TransferConfig: ExperimentConfig {
    @FilePath public var data: String
    public var model: Architecture = .lenet
    public var auxiliaryClasses: [Int] = []
    public var targetClasses: [Int] = []
    public var loss: LossKind = .kcl
    public var clusters = 5
    public var oracleSimilarity = false
    /// A trained similarity network to use instead of training one on the auxiliary classes (`l2c cluster --spn`).
    @FilePath public var spnCheckpoint: String? = nil
    /// Class-balanced SPN batches; nil draws batches from the whole auxiliary set.
    public var balance: ClassBalance?
    public var spnStatistics: SPNHead.Statistics = .batch
    /// A cluster counts towards the estimate when it receives at least this share of the target samples.
    public var minimumShare = 0.05
    /// How the two networks train.
    public var training = CrossTaskTraining()
    @FilePath public var out: String? = nil
    public var runPolicy = RunPolicy()
    /// The command in training states: `transfer`, or `cluster` (an SPN from a file or the oracle).
    public var command = "transfer"

    public init(data: String) { self.data = data }

    /// The cluster count's share is applied after training, to the scores.
    public static let changeableOnResume: Set<String> = Set(["minimumShare", "out", "runPolicy"])
        .union(CrossTaskTraining.changeableOnResume(under: "training"))
}
