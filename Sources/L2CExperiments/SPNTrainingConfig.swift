import L2CRun
import L2CTensor

/// `l2c train-spn`: a similarity network on labelled classes (or alphabets), on its own.
public struct SPNTrainingConfig: ExperimentConfig {
    @FilePath public var data: String
    public var model: Architecture = .lenet
    /// The classes learnt (empty: all), or for an alphabet tree, the alphabets learnt.
    public var classes: [Int] = []
    public var alphabets: [String] = []
    public var optimization = Optimization()
    public var balance: ClassBalance?
    @FilePath public var out: String? = nil
    public var runPolicy = RunPolicy()

    public init(data: String) { self.data = data }

    public static let changeableOnResume: Set<String> = Set(["out", "runPolicy"]).union(Optimization.changeableOnResume(under: "optimization"))
}
