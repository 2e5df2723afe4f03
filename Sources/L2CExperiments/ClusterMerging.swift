import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// A better count of the clusters than the share threshold alone, from the pairs the similarity network calls
/// similar between clusters (README, "Counting clusters"). Over the pairs inside the global batches of a seeded
/// shuffle, similar_ab counts the ordered pairs (x in cluster a, y in b) the SPN calls similar, all_ab all of them.
///
/// - Without a feature space (no warm-up: the glyph alphabets, `--warm-up-steps 0`), **the linkage rule**: with
///   S_ab = similar_ab / all_ab, the clusters holding at least `minimumShare` of the samples are joined whenever
///   S_ab ≥ ½·(S_aa + S_bb)/2 (half their mean internal linkage: an SPN that transfers to unseen classes calls only
///   part of the same-class pairs similar), and the groups are counted.
/// - With the warmed-up features' far pairs (`FarPairs.Space` of the counted samples), **the modular rule**: the
///   similar pairs the features call far are dropped (as in the clustering network's targets), and the clusters are
///   grouped by modularity (`groups`), all of them, so that fragments below the share join their class.
///   The networks trained on that geometry spread a class over several clusters the linkage rule cannot join.
public enum ClusterMerging {
    public static func count(_ network: SimilarityNetwork, _ data: Dataset, assignments: [Int], clusters k: Int, globalBatch: Int,
                             statistics: SPNHead.Statistics, minimumShare: Double, seed: UInt64, far: FarPairs.Space? = nil,
                             communicator comm: any Communicator) -> Int {
        var pairCounts = [Double](repeating: 0, count: 2 * k * k)   // [similar | all] per (a, b)
        CrossTask.forEachPredictedPair(network, data, globalBatch: globalBatch, statistics: statistics, seed: seed, communicator: comm) { x, y, similar in
            let cell = assignments[x] * k + assignments[y]
            if similar && !(far?.isFar(x, y) ?? false) { pairCounts[cell] += 1 }
            pairCounts[k * k + cell] += 1
        }
        pairCounts.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 2 * k * k) }
        var sizes = [Int](repeating: 0, count: k)
        for a in assignments { sizes[a] += 1 }
        let similar = Array(pairCounts[..<(k * k)])
        if far != nil { return modularCount(similar: similar, sizes: sizes, minimumShare: minimumShare) }
        return count(similar: similar, all: Array(pairCounts[(k * k)...]), sizes: sizes, minimumShare: minimumShare)
    }

    /// The far pairs by which `count` filters the SPN's similar pairs: the warmed-up features of `data`, scaled to unit
    /// rows, with the cosine below which the clustering network's targets called a pair dissimilar. Nil without a warm-up.
    static func farSpace(_ run: ClusteringRun, _ data: Dataset, communicator comm: any Communicator) -> FarPairs.Space? {
        guard let trunk = run.warmedUpTrunk, let trained = run.geometry?.far else { return nil }
        let features = FeatureExtraction.features(trunk, data, communicator: comm)
        return FarPairs.Space(unitRows: NeighbourTable.unitRows(features.values, count: data.count, dimension: features.width, centred: false),
                              dimension: features.width, farCosine: trained.farCosine)
    }

    /// The linkage rule from tallies over ordered pairs: `similar[a·k + b]` of the `all[a·k + b]` pairs with one sample in
    /// cluster a and the other in b were called similar; `sizes` are the clusters' sample counts. Clusters the SPN links
    /// nothing inside (S_aa = 0) join one another: they are not evidence of a class of their own. An SPN that calls no
    /// pair similar at all gives no evidence to merge on: then each cluster above the share counts.
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

    /// The modular rule: the groups of `groups` holding at least `minimumShare` of the samples.
    public static func modularCount(similar: [Double], sizes: [Int], minimumShare: Double) -> Int {
        let samples = sizes.reduce(0, +)
        return groups(similar: similar, sizes: sizes).filter { Double($0.reduce(0) { $0 + sizes[$1] }) >= minimumShare * Double(samples) }.count
    }

    /// The clusters' grouping of greatest modularity (Newman) of the weighted graph W_ab = similar pairs between a and b,
    ///   Q = Σ_g [ W_gg / T − (d_g / T)² ],   d_g = Σ_h W_gh,   T = Σ_g d_g,
    /// found greedily (Clauset–Newman–Moore): from one group per non-empty cluster, join the two groups of largest
    ///   ΔQ = 2·(W_gh / T − d_g·d_h / T²)
    /// while it is positive, i.e. while the pairs link them more than they would link two groups of their degrees at
    /// random. No similar pair at all leaves every cluster a group. Each group lists its clusters.
    public static func groups(similar: [Double], sizes: [Int]) -> [[Int]] {
        let k = sizes.count
        precondition(similar.count == k * k, "\(similar.count) tallies are not \(k) × \(k)")
        var groups = (0..<k).filter { sizes[$0] > 0 }.map { [$0] }
        var weight = groups.map { g in groups.map { h in (similar[g[0] * k + h[0]] + similar[h[0] * k + g[0]]) / 2 } }
        var degree = weight.map { $0.reduce(0, +) }
        let total = degree.reduce(0, +)
        guard total > 0 else { return groups }
        while groups.count > 1 {
            var best: (gain: Double, g: Int, h: Int) = (0, 0, 0)
            for g in 0..<groups.count {
                for h in (g + 1)..<groups.count {
                    let gain = 2 * (weight[g][h] / total - degree[g] * degree[h] / (total * total))
                    if gain > best.gain { best = (gain, g, h) }
                }
            }
            guard best.gain > 0 else { break }
            let (g, h) = (best.g, best.h)
            groups[g] += groups[h]
            degree[g] += degree[h]
            let joined = (0..<groups.count).map { weight[g][$0] + weight[h][$0] }   // W_{g∪h, x}
            for x in 0..<groups.count { (weight[g][x], weight[x][g]) = (joined[x], joined[x]) }
            weight[g][g] = joined[g] + joined[h]   // W_gg + W_hg + W_gh + W_hh
            groups.remove(at: h); degree.remove(at: h); weight.remove(at: h)
            for x in 0..<weight.count { weight[x].remove(at: h) }
        }
        return groups
    }
}
