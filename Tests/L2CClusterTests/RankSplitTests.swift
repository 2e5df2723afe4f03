import L2CCluster
import L2CComm
import L2CTensor
import XCTest

/// The distributed decompositions (all-gather forward, reduce-scatter backward) give, summed over ranks,
/// what one rank holding the whole batch computes.
final class RankSplitTests: XCTestCase {
    private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t[i] = rng.normal() }
        return t
    }

    private func rows(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let c = t.columns
        return Tensor(shape: [range.count, c], values: Array(t.array[(range.lowerBound * c)..<(range.upperBound * c)]))
    }

    func testSPNHeadGradientsSplitOverRanks() {
        let (n, f, ranks) = (12, 3, 3)
        let x = randomTensor([n, f], seed: 1)
        let labels = (0..<n).map { $0 % 4 }
        func makeHead() -> SPNHead { var rng = RandomGenerator(seed: 9); return SPNHead(features: f, rng: &rng) }
        let whole = makeHead()
        let single = whole.train(localFeatures: x, similarity: LabelSimilarity(labels: labels), communicator: SingleProcessCommunicator())
        let local = n / ranks
        let split = ThreadedRanks(size: ranks).run { rank, comm -> ([Float], [[Float]], Double) in
            let head = makeHead()
            let result = head.train(localFeatures: self.rows(x, (rank * local)..<((rank + 1) * local)),
                                    similarity: LabelSimilarity(labels: labels), communicator: comm)
            return (result.gradFeatures.array, head.parameters.map { $0.parameter.gradient.array }, result.loss)
        }
        XCTAssertEqual(split[0].2, single.loss, accuracy: 1e-6)
        let gathered = split.flatMap { $0.0 }
        for i in 0..<gathered.count { XCTAssertEqual(gathered[i], single.gradFeatures[i], accuracy: 1e-5 * single.gradFeatures.maxAbs, "dx[\(i)]") }
        for (p, (name, parameter)) in whole.parameters.enumerated() {
            let summed = (0..<parameter.gradient.count).map { i in split.reduce(Float(0)) { $0 + $1.1[p][i] } }
            let scale = max(parameter.gradient.maxAbs, 1e-6)
            for i in 0..<summed.count { XCTAssertEqual(summed[i], parameter.gradient[i], accuracy: 1e-5 * scale + 1e-7, "\(name)[\(i)]") }
        }
    }

    func testPairwiseLossGradientsSplitOverRanks() {
        let (n, k, ranks) = (16, 5, 4)
        let probs = Softmax.forward(randomTensor([n, k], seed: 3))
        let labels = (0..<n).map { $0 % 3 }
        for loss in [KCL(), MCL()] as [any PairwiseLoss] {
            let single = loss.evaluate(localProbs: probs, similarity: LabelSimilarity(labels: labels), communicator: SingleProcessCommunicator())
            let local = n / ranks
            let split = ThreadedRanks(size: ranks).run { rank, comm in
                loss.evaluate(localProbs: self.rows(probs, (rank * local)..<((rank + 1) * local)),
                              similarity: LabelSimilarity(labels: labels), communicator: comm).gradProbs.array
            }.flatMap { $0 }
            for i in 0..<split.count { XCTAssertEqual(split[i], single.gradProbs[i], accuracy: 1e-6 * single.gradProbs.maxAbs) }
        }
    }

    func testSynchronisedBatchNormSplitsOverRanks() {
        let (n, c, ranks) = (8, 3, 2)
        let x = randomTensor([n, c, 2, 2], seed: 5), dy = randomTensor([n, c, 2, 2], seed: 6)
        let whole = BatchNorm(c, communicator: SingleProcessCommunicator())
        let y = whole.forward(x, Pass(training: true)).array
        let dx = whole.backward(dy).array
        let perSample = c * 4, local = n / ranks
        let split = ThreadedRanks(size: ranks).run { rank, comm -> ([Float], [Float]) in
            let bn = BatchNorm(c, communicator: comm)
            let part = { (t: Tensor) in Tensor(shape: [local, c, 2, 2], values: Array(t.array[(rank * local * perSample)..<((rank + 1) * local * perSample)])) }
            let out = bn.forward(part(x), Pass(training: true)).array
            return (out, bn.backward(part(dy)).array)
        }
        let ySplit = split.flatMap { $0.0 }, dxSplit = split.flatMap { $0.1 }
        for i in 0..<y.count {
            XCTAssertEqual(ySplit[i], y[i], accuracy: 1e-5)
            XCTAssertEqual(dxSplit[i], dx[i], accuracy: 1e-5)
        }
    }
}
