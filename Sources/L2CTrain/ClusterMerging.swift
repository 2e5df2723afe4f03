import L2CCluster
import L2CComm
import L2CData
import L2CTensor

/// A better count of the clusters than the share threshold alone, using the similarity network itself:
/// two clusters are one when the SPN links them about as strongly as it links each of them internally.
///
/// Over the pairs inside the global batches of a seeded shuffle, S_ab = (pairs of clusters a, b predicted
/// similar) / (pairs of clusters a, b). Clusters holding at least `minimumShare` of the samples are joined
/// whenever S_ab ≥ ½·(S_aa + S_bb)/2 (union–find: half their mean internal linkage, because an SPN that
/// transfers to unseen classes is conservative and calls only part of the same-class pairs similar), and
/// the groups are counted. Clusters the SPN links nothing inside (S_aa = 0) join one another: they are not
/// evidence of a class of their own.
public enum ClusterMerging {
    public static func count(_ network: SimilarityNetwork, _ data: Dataset, assignments: [Int], clusters k: Int, globalBatch: Int,
                             statistics: SPNHead.Statistics, minimumShare: Double, seed: UInt64, communicator comm: any Communicator) -> Int {
        var pairCounts = [Double](repeating: 0, count: 2 * k * k)   // [similar | all] per (a, b)
        CrossTask.forEachPredictedPair(network, data, globalBatch: globalBatch, statistics: statistics, seed: seed, communicator: comm) { x, y, similar in
            let cell = assignments[x] * k + assignments[y]
            if similar { pairCounts[cell] += 1 }
            pairCounts[k * k + cell] += 1
        }
        pairCounts.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 2 * k * k) }
        var sizes = [Int](repeating: 0, count: k)
        for a in assignments { sizes[a] += 1 }
        return count(similar: Array(pairCounts[..<(k * k)]), all: Array(pairCounts[(k * k)...]), sizes: sizes, minimumShare: minimumShare)
    }

    /// The count from pair tallies over ordered pairs: `similar[a·k + b]` of the `all[a·k + b]` pairs with one sample in
    /// cluster a and the other in b were called similar; `sizes` are the clusters' sample counts.
    /// An SPN that calls no pair similar at all gives no evidence to merge on: then each cluster above the share counts.
    public static func count(similar: [Double], all: [Double], sizes: [Int], minimumShare: Double) -> Int {
        let k = sizes.count
        let samples = sizes.reduce(0, +)
        let kept = (0..<k).filter { Double(sizes[$0]) >= minimumShare * Double(samples) }
        guard similar.contains(where: { $0 > 0 }) else { return kept.count }
        /// Share of the pairs between clusters a and b that the SPN calls similar.
        func linkage(_ a: Int, _ b: Int) -> Double {
            let pairs = all[a * k + b] + all[b * k + a]
            return pairs > 0 ? (similar[a * k + b] + similar[b * k + a]) / pairs : 0
        }
        var parent = Array(0..<k)
        func root(_ x: Int) -> Int { var x = x; while parent[x] != x { x = parent[x] }; return x }
        for (n, a) in kept.enumerated() {
            for b in kept[(n + 1)...] where linkage(a, b) >= (linkage(a, a) + linkage(b, b)) / 4 { parent[root(a)] = root(b) }
        }
        return Set(kept.map(root)).count
    }
}
