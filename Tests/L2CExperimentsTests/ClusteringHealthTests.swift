import L2CBench
import L2CComm
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// The collapse warning: a clustering network that put the pairs its supervision calls dissimilar together.
final class ClusteringHealthTests: XCTestCase {
    /// Four classes of 6 samples (labels only; the oracle supervision reads them).
    private let data = Dataset(images: [Float](repeating: 0, count: 24), labels: (0..<24).map { $0 / 6 }, channels: 1, height: 1, width: 1,
                               source: "test")

    private func health(_ assignments: [Int], clusters: Int) -> ClusteringHealth {
        ClusteringHealth.measure(assignments: assignments, clusters: clusters, data: data, supervision: .oracle, globalBatch: 24, seed: 1,
                                 communicator: SingleProcessCommunicator())
    }

    func testClustersThatFollowTheClassesAreHealthy() {
        let h = health(data.labels, clusters: 4)
        XCTAssertEqual(h.dissimilarTogether, 0)
        XCTAssertEqual(h.shares, [0.25, 0.25, 0.25, 0.25])
        XCTAssertNil(h.warning)
    }

    /// K far above the truth leaves clusters empty or splits classes: no dissimilar pair is together, no warning.
    func testSplittingClassesWithKAboveTheTruthIsNotACollapse() {
        let h = health(data.labels.enumerated().map { 2 * $0.element + $0.offset % 2 }, clusters: 20)
        XCTAssertEqual(h.dissimilarTogether, 0)
        XCTAssertEqual(h.shares.count, 8)
        XCTAssertNil(h.warning)
    }

    /// Four classes in two clusters: of the 24·23 − 4·6·5 = 432 dissimilar ordered pairs, the 2·(12·11 − 2·30) = 144
    /// inside a cluster are together, a third.
    func testFourClassesInTwoClustersAreACollapseWithItsNumbers() throws {
        let h = health(data.labels.map { $0 / 2 }, clusters: 4)
        XCTAssertEqual(h.dissimilarTogether, 144.0 / 432.0, accuracy: 1e-12)
        XCTAssertTrue(h.collapsed)
        let warning = try XCTUnwrap(h.warning)
        XCTAssertTrue(warning.contains("33% of the pairs"), warning)
        XCTAssertTrue(warning.contains("uses 2 of K = 4 clusters (largest shares 0.50, 0.50)"), warning)
        XCTAssertTrue(warning.contains("Try more steps"), warning)
    }
}
