import L2CCluster
import XCTest

/// Hungarian accuracy on rectangular tables, NMI (arithmetic) and ARI against metrics.json.
final class MetricsReferenceTests: XCTestCase {
    func testEveryCaseMatchesTheReference() throws {
        let cases = try ReferenceVectors.cases("metrics.json")
        XCTAssertEqual(cases.count, 7)
        for c in cases {
            let name = c["name"] as! String
            let truth = ReferenceVectors.integers(c["truth"]), pred = ReferenceVectors.integers(c["pred"])
            let table = Contingency(truth: truth, predicted: pred)
            XCTAssertEqual(table.counts, (c["contingency"] as! [[NSNumber]]).map { $0.map(\.intValue) }, "\(name) contingency")
            let scores = ClusteringMetrics.score(truth: truth, predicted: pred)
            XCTAssertEqual(scores.matched, c["matched"] as! Int, "\(name) matched")
            XCTAssertEqual(scores.accuracy, (c["acc"] as! NSNumber).doubleValue, accuracy: 1e-12, name)
            XCTAssertEqual(scores.nmi, (c["nmi"] as! NSNumber).doubleValue, accuracy: 1e-12, "\(name) nmi")
            XCTAssertEqual(scores.ari, (c["ari"] as! NSNumber).doubleValue, accuracy: 1e-12, "\(name) ari")
            XCTAssertEqual(scores.clustersUsed, c["n_clusters"] as! Int)
            // The matching is one-to-one and attains `matched`.
            XCTAssertEqual(Set(scores.matching.values).count, scores.matching.count, "\(name) one-to-one")
        }
    }

    func testAssignmentFindsTheMinimumOnAKnownMatrix() {
        // Optimal: row0→col1 (1), row1→col0 (2), row2→col2 (2) = 5.
        let cost: [[Double]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        let a = minimumCostAssignment(cost)
        XCTAssertEqual(a.enumerated().reduce(0.0) { $0 + cost[$1.offset][$1.element] }, 5)
    }
}
