import L2CCluster
import L2CComm
import L2CTensor
import XCTest

/// ACOL + GAR against gar.json (the ACOL/GAR definition of Kilinc & Uysal, gradients by automatic differentiation).
final class ACOLGARReferenceTests: XCTestCase {
    func testEveryCaseMatchesTheReference() throws {
        let cases = try ReferenceVectors.cases("gar.json")
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let name = c["name"] as! String
            let tolerance = Tolerance(c["tolerance_float32"])
            var acol = ACOLGAR(parents: c["parents"] as! Int, duplicates: c["k"] as! Int)
            acol.parentOfNode = ReferenceVectors.integers(c["parent_of_node"])
            if c["layout"] as! String == "contiguous" {
                XCTAssertEqual(acol.parentOfNode, ACOLGAR(parents: acol.parents, duplicates: acol.duplicates).parentOfNode, "\(name): contiguous by default")
            }
            (acol.c1, acol.c2, acol.c3, acol.c4) = ((c["c1"] as! NSNumber).doubleValue, (c["c2"] as! NSNumber).doubleValue,
                                                    (c["c3"] as! NSNumber).doubleValue, (c["c4"] as! NSNumber).doubleValue)
            let z = ReferenceVectors.tensor(ReferenceVectors.matrix(c["Z"]))
            let labels = ReferenceVectors.integers(c["labels"])
            let comm = SingleProcessCommunicator()
            tolerance.assertArray(acol.parentProbabilities(z).array, Array(ReferenceVectors.matrix(c["parent_probs"]).joined()), "\(name) parent_probs")
            let result = acol.evaluate(localZ: z, coarseLabels: labels, communicator: comm)
            let scalar = { (key: String) in (c[key] as! NSNumber).doubleValue }
            tolerance.assertScalar(result.terms.affinity, scalar("affinity"), "\(name) affinity")
            tolerance.assertScalar(result.terms.balance, scalar("balance"), "\(name) balance")
            tolerance.assertScalar(result.terms.coactivity, scalar("coactivity"), "\(name) coactivity")
            tolerance.assertScalar(result.gar, scalar("gar_loss"), "\(name) gar_loss")
            tolerance.assertScalar(result.crossEntropy, scalar("ce_mean"), "\(name) ce_mean")
            tolerance.assertScalar(result.loss, scalar("total_loss"), "\(name) total_loss")
            tolerance.assertArray(result.gradZ.array, Array(ReferenceVectors.matrix(c["grad_Z_total"]).joined()), "\(name) grad_Z_total")
            // The two parts on their own: garWeight 0 leaves the cross-entropy; the difference is GAR's.
            let ceOnly = acol.evaluate(localZ: z, coarseLabels: labels, garWeight: 0, communicator: comm).gradZ.array
            tolerance.assertArray(ceOnly, Array(ReferenceVectors.matrix(c["grad_Z_ce"]).joined()), "\(name) grad_Z_ce")
            tolerance.assertArray(zip(result.gradZ.array, ceOnly).map { $0 - $1 }, Array(ReferenceVectors.matrix(c["grad_Z_gar"]).joined()),
                                  "\(name) grad_Z_gar")
        }
    }

    /// Finite differences of CE + GAR with respect to Z.
    func testGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 3)
        var acol = ACOLGAR(parents: 2, duplicates: 3)
        (acol.c1, acol.c2, acol.c3, acol.c4) = (1, 1, 0.01, 1e-3)
        let z = Tensor(shape: [6, 6], values: (0..<36).map { _ in rng.normal() })
        let labels = [0, 1, 1, 0, 1, 0]
        let comm = SingleProcessCommunicator()
        let analytic = acol.evaluate(localZ: z, coarseLabels: labels, communicator: comm).gradZ
        let h: Float = 1e-2
        for i in 0..<z.count {
            let saved = z[i]
            z[i] = saved + h; let plus = acol.evaluate(localZ: z, coarseLabels: labels, communicator: comm).loss
            z[i] = saved - h; let minus = acol.evaluate(localZ: z, coarseLabels: labels, communicator: comm).loss
            z[i] = saved
            XCTAssertEqual(Float((plus - minus) / Double(2 * h)), analytic[i], accuracy: 2e-2 * analytic.maxAbs, "dZ[\(i)]")
        }
    }

    /// A global batch split over ranks gives the loss and gradients of one rank holding it all.
    func testSplitOverRanksEqualsOneRank() {
        var rng = RandomGenerator(seed: 5)
        var acol = ACOLGAR(parents: 2, duplicates: 4)
        acol.c4 = 1e-3
        let z = Tensor(shape: [12, 8], values: (0..<96).map { _ in rng.normal() })
        let labels = (0..<12).map { $0 % 2 }
        let whole = acol.evaluate(localZ: z, coarseLabels: labels, communicator: SingleProcessCommunicator())
        let split = ThreadedRanks(size: 3).run { rank, comm -> (Double, [Float]) in
            let rows = (rank * 4)..<((rank + 1) * 4)
            let part = Tensor(shape: [4, 8], values: Array(z.array[(rows.lowerBound * 8)..<(rows.upperBound * 8)]))
            let r = acol.evaluate(localZ: part, coarseLabels: Array(labels[rows]), communicator: comm)
            return (r.loss, r.gradZ.array)
        }
        XCTAssertEqual(split[0].0, whole.loss, accuracy: 1e-6)
        let gathered = split.flatMap { $0.1 }
        for i in 0..<gathered.count { XCTAssertEqual(gathered[i], whole.gradZ[i], accuracy: 1e-6 * whole.gradZ.maxAbs) }
    }
}
