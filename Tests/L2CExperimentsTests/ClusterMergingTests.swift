import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// How the SPN's similar pairs between clusters turn K outputs into an estimated count: by the linkage rule
/// (clusters above the share joined when linked about as strongly as inside), or by the modular rule (all
/// clusters grouped where the pairs link them more than chance, the groups above the share counted).
final class ClusterMergingTests: XCTestCase {
    private func linkageTallies(_ k: Int, size: Double = 100, linkage: [[Double]]) -> (similar: [Double], all: [Double], sizes: [Int]) {
        var (similar, all) = ([Double](repeating: 0, count: k * k), [Double](repeating: 0, count: k * k))
        for a in 0..<k {
            for b in 0..<k {
                all[a * k + b] = size * size
                similar[a * k + b] = linkage[min(a, b)][max(a, b)] * size * size
            }
        }
        return (similar, all, Array(repeating: Int(size), count: k))
    }

    func testLinkageRuleJoinsClustersLinkedAboutAsStronglyAsInsideThemselves() {
        // 0 and 1 are one class split in two (linked 0.5 against 0.6 inside); 2 stands apart.
        let t = linkageTallies(3, linkage: [[0.6, 0.5, 0.01], [0, 0.6, 0.02], [0, 0, 0.7]])
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 2)
    }

    func testLinkageRuleJoinsClustersTheSPNLinksNothingInside() {
        // 2 and 3 hold samples the SPN never calls similar: one group between them, not two classes.
        let t = linkageTallies(4, linkage: [[0.6, 0.01, 0, 0], [0, 0.6, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 3)
    }

    func testLinkageRuleLeavesTheShareCountWhenTheSPNCallsNothingSimilar() {
        let t = linkageTallies(4, linkage: Array(repeating: Array(repeating: 0, count: 4), count: 4))
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 4)
    }

    func testLinkageRuleCountsNoClusterBelowTheShare() {
        var t = linkageTallies(3, linkage: [[0.6, 0, 0], [0, 0.6, 0], [0, 0, 0.6]])
        t.sizes = [500, 490, 10]
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 2)
    }

    // The modular rule.

    /// Similar-pair tallies for clusters of the given sizes, every ordered pair counted once, with the share of
    /// pairs called similar given per unordered cluster pair.
    private func tallies(sizes: [Int], linkage: [[Double]]) -> [Double] {
        let k = sizes.count
        var similar = [Double](repeating: 0, count: k * k)
        for a in 0..<k { for b in 0..<k { similar[a * k + b] = linkage[min(a, b)][max(a, b)] * Double(sizes[a] * sizes[b]) } }
        return similar
    }

    func testModularRuleMakesAClassSplitInTwoOneGroup() {
        // 0 and 1 are one class split in two (linked 0.5 against 0.6 inside); 2 stands apart.
        let sizes = [100, 100, 100]
        let similar = tallies(sizes: sizes, linkage: [[0.6, 0.5, 0.01], [0, 0.6, 0.02], [0, 0, 0.7]])
        XCTAssertEqual(ClusterMerging.groups(similar: similar, sizes: sizes), [[0, 1], [2]])
        XCTAssertEqual(ClusterMerging.modularCount(similar: similar, sizes: sizes, minimumShare: 0.05), 2)
    }

    func testModularRuleKeepsClassesLinkedNoMoreThanChanceApart() {
        // Three classes, each linked inside, with a few similar calls spread evenly between them: below the
        // d_g·d_h / T that random pairing would give, so no join gains modularity.
        let sizes = [100, 100, 100]
        let similar = tallies(sizes: sizes, linkage: [[0.5, 0.02, 0.02], [0, 0.5, 0.02], [0, 0, 0.5]])
        XCTAssertEqual(ClusterMerging.modularCount(similar: similar, sizes: sizes, minimumShare: 0.05), 3)
    }

    func testModularRuleCountsFragmentsBelowTheShareTogetherAsAClass() {
        // Clusters 1 and 2 each hold 6% of the samples, below the 10% share, but the SPN links them as one
        // class of 12%: it counts, where the share alone would not see it.
        let sizes = [440, 30, 30]
        let similar = tallies(sizes: sizes, linkage: [[0.5, 0.01, 0.01], [0, 0.5, 0.4], [0, 0, 0.5]])
        XCTAssertEqual(ClusterMerging.groups(similar: similar, sizes: sizes), [[0], [1, 2]])
        XCTAssertEqual(ClusterMerging.modularCount(similar: similar, sizes: sizes, minimumShare: 0.1), 2)
    }

    func testModularRuleLeavesTheShareCountWhenNothingIsSimilar() {
        let sizes = [100, 100, 100, 3]
        let similar = tallies(sizes: sizes, linkage: Array(repeating: Array(repeating: 0, count: 4), count: 4))
        XCTAssertEqual(ClusterMerging.modularCount(similar: similar, sizes: sizes, minimumShare: 0.05), 3)
    }

    func testModularRuleMakesNoGroupOfAnEmptyCluster() {
        let sizes = [100, 0, 100]
        let similar = tallies(sizes: sizes, linkage: [[0.5, 0, 0], [0, 0, 0], [0, 0, 0.5]])
        XCTAssertEqual(ClusterMerging.groups(similar: similar, sizes: sizes), [[0], [2]])
    }

    func testModularRuleReachesTheBestGroupingOfAChainOfClasses() {
        // Six clusters: three classes split in two, the halves linked strongly, the classes in a chain by weak links.
        // The best of all 203 groupings of six clusters (by brute force below) is the three classes.
        let sizes = [80, 120, 100, 100, 60, 140]
        let linkage: [[Double]] = [[0.6, 0.4, 0.05, 0, 0, 0], [0, 0.6, 0, 0, 0, 0], [0, 0, 0.6, 0.4, 0.05, 0],
                                   [0, 0, 0, 0.6, 0, 0], [0, 0, 0, 0, 0.6, 0.4], [0, 0, 0, 0, 0, 0.6]]
        let similar = tallies(sizes: sizes, linkage: linkage)
        let greedy = ClusterMerging.groups(similar: similar, sizes: sizes)
        XCTAssertEqual(Set(greedy.map(Set.init)), [[0, 1], [2, 3], [4, 5]])
        XCTAssertEqual(modularity(greedy, similar, 6), bestModularity(similar, 6), accuracy: 1e-12)
    }

    private func modularity(_ groups: [[Int]], _ w: [Double], _ k: Int) -> Double {
        let total = w.reduce(0, +)
        return groups.reduce(0) { q, g in
            let inside = g.reduce(0) { s, a in s + g.reduce(0) { $0 + w[a * k + $1] } }
            let degree = g.reduce(0) { s, a in s + (0..<k).reduce(0) { $0 + w[a * k + $1] } }
            return q + inside / total - (degree / total) * (degree / total)
        }
    }

    /// The greatest modularity over every partition of 0..<k (restricted growth strings).
    private func bestModularity(_ w: [Double], _ k: Int) -> Double {
        var best = -Double.infinity
        func extend(_ labels: [Int]) {
            guard labels.count < k else {
                let groups = Dictionary(grouping: 0..<k) { labels[$0] }.values.map(Array.init)
                best = max(best, modularity(groups, w, k))
                return
            }
            for label in 0...((labels.max() ?? -1) + 1) { extend(labels + [label]) }
        }
        extend([])
        return best
    }
}
