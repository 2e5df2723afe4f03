import L2CTrain
import XCTest

/// How the SPN's linkage between clusters turns K outputs into an estimated count.
final class ClusterMergingTests: XCTestCase {
    /// Tallies for k clusters of `size` samples each, every ordered pair counted once, with the share of
    /// pairs called similar given per unordered cluster pair.
    private func tallies(_ k: Int, size: Double = 100, linkage: [[Double]]) -> (similar: [Double], all: [Double], sizes: [Int]) {
        var (similar, all) = ([Double](repeating: 0, count: k * k), [Double](repeating: 0, count: k * k))
        for a in 0..<k {
            for b in 0..<k {
                all[a * k + b] = size * size
                similar[a * k + b] = linkage[min(a, b)][max(a, b)] * size * size
            }
        }
        return (similar, all, Array(repeating: Int(size), count: k))
    }

    func testClustersLinkedAboutAsStronglyAsInsideThemselvesAreOne() {
        // 0 and 1 are one class split in two (linked 0.5 against 0.6 inside); 2 stands apart.
        let t = tallies(3, linkage: [[0.6, 0.5, 0.01], [0, 0.6, 0.02], [0, 0, 0.7]])
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 2)
    }

    func testClustersTheSPNLinksNothingInsideJoinOneAnother() {
        // 2 and 3 hold samples the SPN never calls similar: one group between them, not two classes.
        let t = tallies(4, linkage: [[0.6, 0.01, 0, 0], [0, 0.6, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 3)
    }

    func testAnSPNThatCallsNothingSimilarLeavesTheShareCount() {
        let t = tallies(4, linkage: Array(repeating: Array(repeating: 0, count: 4), count: 4))
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 4)
    }

    func testClustersBelowTheShareDoNotCount() {
        var t = tallies(3, linkage: [[0.6, 0, 0], [0, 0.6, 0], [0, 0, 0.6]])
        t.sizes = [500, 490, 10]
        XCTAssertEqual(ClusterMerging.count(similar: t.similar, all: t.all, sizes: t.sizes, minimumShare: 0.05), 2)
    }
}
