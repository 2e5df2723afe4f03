import L2CCluster
import L2CRun
import L2CTensor

/// The many-class character benchmark in the Omniglot protocol: a similarity network learnt on the characters
/// of the auxiliary alphabets (class-balanced batches), then each target alphabet clustered on its own from the
/// SPN's predicted pairs and scored on its images (unsupervised: the same images, as L2C does on Omniglot).
public struct AlphabetTransferConfig: ExperimentConfig {
    @FilePath public var root: String
    public var auxiliaryAlphabets: [String] = []
    public var targetAlphabets: [String] = []
    public var model: Architecture = .lenet
    public var loss: LossKind = .kcl
    /// K per alphabet; nil: the alphabet's number of characters (K known).
    public var clusters: Int?
    public var oracleSimilarity = false
    @FilePath public var spnCheckpoint: String? = nil
    public var spnStatistics: SPNHead.Statistics = .batch
    public var minimumShare = 0.01
    public var balance = ClassBalance(classes: 20, samples: 5)
    /// How the two networks train.
    public var training = CrossTaskTraining()
    @FilePath public var out: String? = nil
    public var runPolicy = RunPolicy()

    public init(root: String) { self.root = root }

    /// The cluster count's share is applied after training, to the scores.
    public static let changeableOnResume: Set<String> = Set(["minimumShare", "out", "runPolicy"])
        .union(CrossTaskTraining.changeableOnResume(under: "training"))
}
