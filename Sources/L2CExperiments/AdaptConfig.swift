import L2CRun
import L2CTensor

/// `l2c adapt`: the cross-domain protocol.
public struct AdaptConfig: ExperimentConfig {
    @FilePath public var source: String
    @FilePath public var target: String
    public var model: Architecture = .lenet
    public var method: AdaptationMethod = .ccnPlus
    public var loss: LossKind = .kcl
    /// A trained similarity network; nil trains one on the source's labels first (phase "spn").
    @FilePath public var spnCheckpoint: String? = nil
    /// λ_lco, the weight of the clustering loss on the target.
    public var clusteringWeight = 1.0
    /// λ_d, the weight of the domain loss.
    public var domainWeight = 1.0
    /// Both domains resized (IDX, CSV) or decoded (image folders) to this size; nil: the source's size (224 for folders).
    public var imageSize: Int?
    public var batchNorm: DomainBatchNorm = .perDomain
    /// Backbone weights from a safetensors file (`--init`), the classifier head skipped.
    @FilePath public var initialWeights: String? = nil
    public var spnOptimization = Optimization()
    public var optimization = Optimization()
    @FilePath public var out: String? = nil
    public var runPolicy = RunPolicy()

    public init(source: String, target: String) {
        self.source = source
        self.target = target
    }

    public static let changeableOnResume: Set<String> = Set(["out", "runPolicy"])
        .union(Optimization.changeableOnResume(under: "spnOptimization"))
        .union(Optimization.changeableOnResume(under: "optimization"))
}
