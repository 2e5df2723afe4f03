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
        let local = globalBatch / comm.size
        var rng = RandomGenerator(seed: seed, stream: 0x4D45_5247)
        let order = rng.permutation(data.count)
        var pairCounts = [Double](repeating: 0, count: 2 * k * k)   // [similar | all] per (a, b)
        for start in stride(from: 0, through: data.count - globalBatch, by: globalBatch) {
            let batch = Array(order[start..<(start + globalBatch)])
            let terms = network.pairTerms(data.batch(batch[(comm.rank * local)..<((comm.rank + 1) * local)]), statistics: statistics, communicator: comm)
            var predicted = [Int8](repeating: 0, count: local * globalBatch)
            predicted.withUnsafeMutableBufferPointer {
                network.head.predictedSimilarity(terms).fill(rows: terms.firstRow..<(terms.firstRow + local), into: $0.baseAddress!)
            }
            for r in 0..<local {
                let i = terms.firstRow + r
                for j in 0..<globalBatch where j != i {
                    let cell = assignments[batch[i]] * k + assignments[batch[j]]
                    if predicted[r * globalBatch + j] > 0 { pairCounts[cell] += 1 }
                    pairCounts[k * k + cell] += 1
                }
            }
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
                if linkage(a, b) >= (linkage(a, a) + linkage(b, b)) / 4 { parent[root(a)] = root(b) }
            }
        }
        return Set(kept.map(root)).count
    }
}
