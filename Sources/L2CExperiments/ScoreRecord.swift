import L2CCluster
import L2CRun

/// Clusters scored against labels, as every command reports them: Hungarian accuracy, NMI, ARI (rounded to six
/// significant digits) and the clusters used.
public struct ScoreRecord: Encodable {
    public var acc: Double
    public var nmi: Double
    public var ari: Double
    public var clustersUsed: Int

    public init(_ scores: ClusteringScores) {
        (acc, nmi, ari) = (JSONLine.round(scores.accuracy), JSONLine.round(scores.nmi), JSONLine.round(scores.ari))
        clustersUsed = scores.clustersUsed
    }
}

/// How fast a phase trained: its steps and images per second over its loop.
public struct ThroughputRecord: Encodable {
    public var steps: Int
    public var imagesPerSec: Double

    /// `imagesPerStep`: the global batch, or both domains' batches for `adapt`.
    public init(steps: Int, imagesPerStep: Int, seconds: Double) {
        self.steps = steps
        imagesPerSec = JSONLine.round(Double(steps * imagesPerStep) / max(seconds, 1e-9), digits: 4)
    }
}
