import L2CCluster
import L2CComm
import L2CTensor
import XCTest

/// The factorised SPN pair head against the reference forward and gradients of L2C's concatenate-all-pairs head.
final class SPNHeadReferenceTests: XCTestCase {
    private func load() throws -> (case: [String: Any], head: SPNHead, x: Tensor, labels: [Int]) {
        let c = try XCTUnwrap(try ReferenceVectors.cases("spn_head.json").first)
        let f = c["f"] as! Int
        var rng = RandomGenerator(seed: 1)
        let head = SPNHead(features: f, rng: &rng)
        let params = c["params"] as! [String: Any]
        func set(_ t: Tensor, _ key: String) {
            let values: [Double] = (params[key] as? [[NSNumber]]).map { $0.joined().map(\.doubleValue) } ?? ReferenceVectors.vector(params[key])
            XCTAssertEqual(values.count, t.count, key)
            for i in 0..<t.count { t[i] = Float(values[i]) }
        }
        set(head.linear1Weight.value, "linear1_weight"); set(head.linear1Bias.value, "linear1_bias")
        set(head.gamma.value, "bn_weight"); set(head.beta.value, "bn_bias")
        set(head.runningMean, "bn_running_mean_before"); set(head.runningVariance, "bn_running_var_before")
        set(head.linear2Weight.value, "linear2_weight"); set(head.linear2Bias.value, "linear2_bias")
        return (c, head, ReferenceVectors.tensor(ReferenceVectors.matrix(c["x"])), ReferenceVectors.integers(c["labels"]))
    }

    func testForwardLossAndEveryGradientMatchTheReference() throws {
        let (c, head, x, labels) = try load()
        let tolerance = Tolerance(c["tolerance_float32"])
        let comm = SingleProcessCommunicator()
        let logits = head.logits(head.pairTerms(localFeatures: x, statistics: .batch, communicator: comm))
        tolerance.assertArray(logits.array, Array(ReferenceVectors.matrix(c["logits"]).joined()), "logits")
        for (_, p) in head.parameters { p.gradient.zero() }
        let result = head.train(localFeatures: x, similarity: LabelSimilarity(labels: labels), communicator: comm)
        tolerance.assertScalar(result.loss, (c["loss"] as! NSNumber).doubleValue, "loss")
        XCTAssertEqual(result.knownPairs, labels.count * labels.count)
        let grads = c["grads"] as! [String: Any]
        func expected(_ key: String) -> [Double] {
            (grads[key] as? [[NSNumber]]).map { $0.joined().map(\.doubleValue) } ?? ReferenceVectors.vector(grads[key])
        }
        tolerance.assertArray(result.gradFeatures.array, expected("x"), "grad x")
        tolerance.assertArray(head.linear1Weight.gradient.array, expected("linear1_weight"), "grad linear1.weight")
        tolerance.assertArray(head.linear1Bias.gradient.array, expected("linear1_bias"), "grad linear1.bias (zero)")
        tolerance.assertArray(head.gamma.gradient.array, expected("bn_weight"), "grad bn.weight")
        tolerance.assertArray(head.beta.gradient.array, expected("bn_bias"), "grad bn.bias")
        tolerance.assertArray(head.linear2Weight.gradient.array, expected("linear2_weight"), "grad linear2.weight")
        tolerance.assertArray(head.linear2Bias.gradient.array, expected("linear2_bias"), "grad linear2.bias")
        tolerance.assertArray(head.runningMean.array, ReferenceVectors.vector(c["bn_running_mean_after"]), "running mean")
        tolerance.assertArray(head.runningVariance.array, ReferenceVectors.vector(c["bn_running_var_after"]), "running var")
    }

    func testPredictedSimilarityIsTheArgmaxOfThePairLogits() throws {
        let (_, head, x, _) = try load()
        let terms = head.pairTerms(localFeatures: x, statistics: .batch, communicator: SingleProcessCommunicator())
        let logits = head.logits(terms)
        let predicted = head.predictedSimilarity(terms)
        let n = terms.total
        var s = [Int8](repeating: 0, count: n * n)
        s.withUnsafeMutableBufferPointer { predicted.fill(rows: 0..<n, into: $0.baseAddress!) }
        for p in 0..<(n * n) { XCTAssertEqual(s[p], logits[2 * p + 1] > logits[2 * p] ? 1 : -1) }
    }
}
