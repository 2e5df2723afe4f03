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
/// the groups are counted.
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
        let kept = (0..<k).filter { Double(sizes[$0]) >= minimumShare * Double(assignments.count) }
        /// Share of the pairs between clusters a and b that the SPN calls similar.
        func linkage(_ a: Int, _ b: Int) -> Double {
            let all = pairCounts[k * k + a * k + b] + pairCounts[k * k + b * k + a]
            return all > 0 ? (pairCounts[a * k + b] + pairCounts[b * k + a]) / all : 0
        }
        var parent = Array(0..<k)
        func root(_ x: Int) -> Int { var x = x; while parent[x] != x { x = parent[x] }; return x }
        for (n, a) in kept.enumerated() {
            for b in kept[(n + 1)...] {
                // (Never on no evidence: an SPN that calls no pair similar links nothing.)
                let between = linkage(a, b)
                if between > 0, between >= (linkage(a, a) + linkage(b, b)) / 4 { parent[root(a)] = root(b) }
            }
        }
        return Set(kept.map(root)).count
    }
}
