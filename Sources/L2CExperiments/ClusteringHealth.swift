import Foundation
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// Whether a clustering network learnt the pairs it was trained on, in numbers a user can act on.
///
/// A network that collapsed (a few clusters take everything) puts pairs its supervision calls dissimilar into
/// one cluster: with 20 classes in 2 clusters about half of them. One that learnt its pairs puts few there,
/// whether K is the true count or far above it (then it leaves clusters empty, which is how the count is
/// estimated). So the warning looks at `dissimilarTogether`, and reports the cluster shares beside it.
public struct ClusteringHealth: Sendable {
    /// K, the network's outputs.
    public let clusters: Int
    /// Shares of the samples per non-empty cluster, largest first.
    public let shares: [Double]
    /// Of the pairs the supervision (the SPN, or the labels with the oracle) calls dissimilar, the share the
    /// network puts into one cluster.
    public let dissimilarTogether: Double

    /// Above this share of dissimilar pairs together, the network has not learnt its pairs (measured: README, "Defaults").
    public static let collapseThreshold = 0.3

    public var collapsed: Bool { dissimilarTogether > Self.collapseThreshold }

    /// A warning with the numbers and what to try, or nil.
    public var warning: String? {
        guard collapsed else { return nil }
        let largest = shares.prefix(5).map { String(format: "%.2f", $0) }.joined(separator: ", ")
        return String(format: "warning: the clustering network has not learnt its pairs: it puts %.0f%% of the pairs its supervision calls dissimilar into one cluster (above %.0f%%), and uses %d of K = %d clusters (largest shares %@). Try more steps (--epochs/--steps), another learning rate (--lr), or check the similarity network (its F1; more --spn-epochs).",
                      100 * dissimilarTogether, 100 * Self.collapseThreshold, shares.count, clusters, largest)
    }

    public var record: Record {
        Record(dissimilarPairsTogether: JSONLine.round(dissimilarTogether), clusterShares: shares.prefix(clusters).map { JSONLine.round($0) },
               collapsed: collapsed)
    }

    /// For JSON summaries.
    public struct Record: Encodable {
        public var dissimilarPairsTogether: Double
        public var clusterShares: [Double]
        public var collapsed: Bool
    }

    /// Scores `assignments` (one per sample of `data`, every rank the same) against the pair supervision over
    /// the pairs of batch-sized groups, as the network was trained.
    public static func measure(assignments: [Int], clusters: Int, data: Dataset, supervision: PairSupervision, globalBatch: Int,
                               seed: UInt64, communicator comm: any Communicator) -> ClusteringHealth {
        var counts = [Int](repeating: 0, count: max(clusters, (assignments.max() ?? 0) + 1))
        for a in assignments { counts[a] += 1 }
        let shares = counts.filter { $0 > 0 }.map { Double($0) / Double(max(assignments.count, 1)) }.sorted(by: >)
        var pairs = [0.0, 0.0]   // dissimilar pairs, of which in one cluster
        switch supervision {
        case .network(let spn, let statistics):
            let batch = min(globalBatch, data.count / comm.size * comm.size)
            if batch > 0 {
                CrossTask.forEachPredictedPair(spn, data, globalBatch: batch, statistics: statistics, seed: seed, communicator: comm) { a, b, same in
                    if !same { pairs[0] += 1; if assignments[a] == assignments[b] { pairs[1] += 1 } }
                }
                pairs.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 2) }
            }
        case .oracle:
            // Every pair, by class: Σ over clusters of pairs in it minus the same-class ones.
            var byClassAndCluster: [Int: [Int: Int]] = [:]
            for (label, a) in zip(data.labels, assignments) { byClassAndCluster[a, default: [:]][label, default: 0] += 1 }
            let n = Double(assignments.count)
            let sameClass = Dictionary(grouping: data.labels, by: { $0 }).values.reduce(0.0) { $0 + Double($1.count) * Double($1.count - 1) }
            pairs[0] = n * (n - 1) - sameClass
            pairs[1] = byClassAndCluster.values.reduce(0.0) { total, classes in
                let size = Double(classes.values.reduce(0, +))
                return total + size * (size - 1) - classes.values.reduce(0.0) { $0 + Double($1) * Double($1 - 1) }
            }
        }
        return ClusteringHealth(clusters: clusters, shares: shares, dissimilarTogether: pairs[0] > 0 ? pairs[1] / pairs[0] : 0)
    }
}
