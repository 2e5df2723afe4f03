import L2CCluster
import L2CTensor
import XCTest

final class BaselineTests: XCTestCase {
    func testKMeansRecoversWellSeparatedBlobs() {
        var rng = RandomGenerator(seed: 4)
        let centers: [[Float]] = [[0, 0], [10, 0], [0, 10], [10, 10]]
        var values: [Float] = []
        var truth: [Int] = []
        for i in 0..<200 {
            let c = i % 4
            truth.append(c)
            values += [centers[c][0] + rng.normal(), centers[c][1] + rng.normal()]
        }
        let assignment = KMeans(clusters: 4, seed: 2).fit(Tensor(shape: [200, 2], values: values))
        XCTAssertEqual(ClusteringMetrics.score(truth: truth, predicted: assignment).accuracy, 1)
    }

    func testClusterCountKeepsClustersAboveTheShare() {
        let assignments = Array(repeating: 0, count: 50) + Array(repeating: 1, count: 45) + [2, 2, 3, 4, 5]
        XCTAssertEqual(ClusterCountEstimate(minimumShare: 0.05).estimate(assignments), 2)
        XCTAssertEqual(ClusterCountEstimate(minimumShare: 0.01).estimate(assignments), 6)
    }
}
