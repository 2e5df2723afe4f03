import L2CRun
import L2CTensor

/// `l2c acol`: fine clusters inside coarse labels (ACOL + GAR), trained data-parallel, scored on the test split.
public struct ACOLConfig: ExperimentConfig {
    @FilePath public var data: String
    public var model: Architecture = .lenet
    public var parents = 2
    public var duplicates = 5
    /// A `fine coarse` mapping file; nil: CIFAR-100's own coarse labels, or the sorted classes in equal blocks.
    @FilePath public var coarseMap: String? = nil
    public var c1 = 1.0, c2 = 1.0, c3 = 0.0, c4 = 0.0
    /// GAR's weight rises linearly from 0 to 1 over this many steps.
    public var garWarmup = 0
    /// At the end of each epoch, re-seed nodes that had no positive activity from a live sibling.
    public var reviveDeadNodes = false
    public var optimization = Optimization()
    @FilePath public var out: String? = nil
    public var runPolicy = RunPolicy()

    public init(data: String) { self.data = data }

    public static let changeableOnResume: Set<String> = Set(["out", "runPolicy"]).union(Optimization.changeableOnResume(under: "optimization"))
}
