import L2CData
import L2CRun
import L2CTensor

/// Everything a `l2c train` run depends on. Identical on every rank (checked).
public struct TrainingConfig: ExperimentConfig {
    @FilePath public var data: String
    /// Where the test split comes from (default: `data`; the t10k files of a folder, or the CSV file itself).
    @FilePath public var testData: String? = nil
    /// Label column of CSV files (default: the last).
    public var labelColumn: Int?
    public var model: Architecture = .lenet
    public var loss: LossKind = .kcl
    public var clusters: Int = 10
    public var optimization = Optimization()
    @FilePath public var out: String? = nil
    public var evaluate = true
    /// Image folders: the network's input side, decode threads per rank, and what to do with bad files.
    public var imageSize = 224
    public var decodeWorkers = 2
    public var badImages: BadImagePolicy = .fail
    public var runPolicy = RunPolicy()

    public init(data: String) { self.data = data }

    /// What is scored, where it is written, how fast images are decoded and whether a bad one stops the run.
    public static let changeableOnResume: Set<String> = Set(["testData", "out", "evaluate", "decodeWorkers", "badImages", "runPolicy"])
        .union(Optimization.changeableOnResume(under: "optimization"))
}
