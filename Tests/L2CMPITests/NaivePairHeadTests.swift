import L2CBench
import L2CCluster
import L2CComm
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor
import XCTest

/// The benchmark's concatenate-all-pairs head computes what the factorised head computes.
final class NaivePairHeadTests: XCTestCase {
    func testNaiveAndFactorisedHeadsAgree() {
        var rng = RandomGenerator(seed: 2)
        let head = SPNHead(features: 6, rng: &rng)
        let x = Tensor(shape: [10, 6], values: (0..<60).map { _ in rng.normal() })
        let labels = (0..<10).map { $0 % 3 }
        let naive = NaivePairHead.lossAndGradient(head, x: x, labels: labels)
        let factorised = head.train(localFeatures: x, similarity: LabelSimilarity(labels: labels), communicator: SingleProcessCommunicator())
        XCTAssertEqual(naive.loss, factorised.loss, accuracy: 1e-5)
        for i in 0..<x.count { XCTAssertEqual(naive.gradX[i], factorised.gradFeatures[i], accuracy: 1e-4 * factorised.gradFeatures.maxAbs) }
    }
}
