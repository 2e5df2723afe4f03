import L2CRun

/// How the cross-task protocol trains its two networks, on classes or on alphabets alike: the similarity network's
/// and the clustering network's optimisation, the clustering network's initialisations tried, its neighbour pairs
/// and its contrastive warm-up.
public struct CrossTaskTraining: Encodable, Sendable {
    public var spnOptimization = Optimization()
    public var clusterOptimization = Optimization()
    /// Initialisations of the clustering network tried briefly (`--restarts`).
    public var restarts = ClusteringRestarts()
    /// Target samples paired with their nearest neighbours in the clustering network's batches (`--neighbours`).
    public var neighbours = NeighbourPairing.automatic
    /// The clustering network's contrastive warm-up on the target (`--warm-up-steps`).
    public var warmUp = ContrastiveWarmUp.off

    public init() {}

    /// The fields that may change on resume, as paths under the config's field `field`: both networks' lengths.
    public static func changeableOnResume(under field: String) -> Set<String> {
        Optimization.changeableOnResume(under: "\(field).spnOptimization").union(Optimization.changeableOnResume(under: "\(field).clusterOptimization"))
    }
}
