import Foundation

/// External clustering scores of predicted clusters against true classes.
public struct ClusteringScores: Sendable, Equatable {
    /// Best one-to-one class↔cluster matching (Hungarian), matched samples / n.
    public let accuracy: Double
    public let matched: Int
    /// Mutual information over the arithmetic mean of the entropies.
    public let nmi: Double
    /// Adjusted Rand index (Hubert–Arabie).
    public let ari: Double
    /// Distinct predicted clusters.
    public let clustersUsed: Int
    /// class id → cluster id of the optimal matching.
    public let matching: [Int: Int]
}

/// Counts of samples per (class, cluster); ids are the sorted distinct values of each labelling.
public struct Contingency {
    public let classIDs: [Int]
    public let clusterIDs: [Int]
    /// counts[a][b]: samples of class classIDs[a] predicted as cluster clusterIDs[b].
    public let counts: [[Int]]
    public let total: Int

    public init(truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count, "\(truth.count) true labels but \(predicted.count) predictions")
        classIDs = Array(Set(truth)).sorted()
        clusterIDs = Array(Set(predicted)).sorted()
        let classIndex = Dictionary(uniqueKeysWithValues: classIDs.enumerated().map { ($1, $0) })
        let clusterIndex = Dictionary(uniqueKeysWithValues: clusterIDs.enumerated().map { ($1, $0) })
        var c = [[Int]](repeating: [Int](repeating: 0, count: clusterIDs.count), count: classIDs.count)
        for (t, p) in zip(truth, predicted) { c[classIndex[t]!][clusterIndex[p]!] += 1 }
        counts = c
        total = truth.count
    }
}

public enum ClusteringMetrics {
    public static func score(truth: [Int], predicted: [Int]) -> ClusteringScores {
        let table = Contingency(truth: truth, predicted: predicted)
        let (matched, matching) = hungarianMatch(table)
        return ClusteringScores(
            accuracy: table.total > 0 ? Double(matched) / Double(table.total) : 0,
            matched: matched,
            nmi: normalizedMutualInformation(table),
            ari: adjustedRandIndex(table),
            clustersUsed: table.clusterIDs.count,
            matching: matching)
    }

    /// Maximum matched count over one-to-one matchings of the rectangular table (padded to a square).
    public static func hungarianMatch(_ table: Contingency) -> (matched: Int, matching: [Int: Int]) {
        let size = max(table.classIDs.count, table.clusterIDs.count)
        guard size > 0 else { return (0, [:]) }
        var cost = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        for a in table.classIDs.indices {
            for b in table.clusterIDs.indices { cost[a][b] = -Double(table.counts[a][b]) }
        }
        let assignment = minimumCostAssignment(cost)
        var matched = 0
        var matching: [Int: Int] = [:]
        for a in table.classIDs.indices where assignment[a] < table.clusterIDs.count {
            matched += table.counts[a][assignment[a]]
            matching[table.classIDs[a]] = table.clusterIDs[assignment[a]]
        }
        return (matched, matching)
    }

    /// NMI = MI / ((H(truth) + H(pred))/2), natural logs; 0 when MI = 0, 1 when both are single clusters.
    public static func normalizedMutualInformation(_ table: Contingency) -> Double {
        let n = Double(table.total)
        guard n > 0 else { return 0 }
        let rowSums = table.counts.map { Double($0.reduce(0, +)) }
        let columnSums = table.clusterIDs.indices.map { b in Double(table.counts.reduce(0) { $0 + $1[b] }) }
        if rowSums.count == 1 && columnSums.count == 1 { return 1 }
        var mi = 0.0
        for a in rowSums.indices {
            for b in columnSums.indices where table.counts[a][b] > 0 {
                let nab = Double(table.counts[a][b])
                mi += nab / n * log(nab * n / (rowSums[a] * columnSums[b]))
            }
        }
        let entropy = { (sums: [Double]) in sums.reduce(0.0) { $1 > 0 ? $0 - $1 / n * log($1 / n) : $0 } }
        let denominator = (entropy(rowSums) + entropy(columnSums)) / 2
        guard mi > 0, denominator > 0 else { return 0 }
        return min(max(mi / denominator, 0), 1)
    }

    /// ARI = (Σ C(n_ab,2) − E) / (½(Σ C(a,2) + Σ C(b,2)) − E), E = Σ C(a,2)·Σ C(b,2) / C(n,2).
    public static func adjustedRandIndex(_ table: Contingency) -> Double {
        let choose2 = { (x: Double) in x * (x - 1) / 2 }
        let n = Double(table.total)
        let rowSums = table.counts.map { Double($0.reduce(0, +)) }
        let columnSums = table.clusterIDs.indices.map { b in Double(table.counts.reduce(0) { $0 + $1[b] }) }
        let index = table.counts.joined().reduce(0.0) { $0 + choose2(Double($1)) }
        let rows = rowSums.reduce(0.0) { $0 + choose2($1) }
        let columns = columnSums.reduce(0.0) { $0 + choose2($1) }
        let expected = n > 1 ? rows * columns / choose2(n) : 0
        let maximum = (rows + columns) / 2
        guard maximum != expected else { return rows == columns && index == rows ? 1 : 0 }
        return (index - expected) / (maximum - expected)
    }
}
