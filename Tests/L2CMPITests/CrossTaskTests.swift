import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// The similarity network and the clustering network trained from its predictions, on real ranks.
final class CrossTaskTests: XCTestCase {
    static let mnist = TestData.mnist

    /// SPN training and clustering from SPN predictions: 1 rank × 64 equals 2 ranks × 32 after 20 SGD steps, with
    /// every image augmented (the draw follows the sample, not the rank), a contrastive warm-up of the clustering
    /// network first (its two views of each sample, and the loss over all views of the global batch, do not depend on
    /// the rank count either) and neighbour pairs in the clustering batches.
    ///
    /// Both networks are compared over all their parameters at once: the BatchNorm shifts β of its backbone sit in front of
    /// the pair head's own BatchNorm, which removes most of any shift, so their gradients are nearly zero by
    /// invariance and carry float noise (the split tests in L2CClusterTests check the decomposition itself exactly).
    func testSPNAndClusteringOnTwoRanksEqualOneRank() throws {
        let work = NSTemporaryDirectory() + "l2c-crosstask-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let sgd = ["--batch-size", "64", "--steps", "20", "--optimizer", "sgd", "--seed", "3", "--augment", "affine,crop"]
        var spns: [Checkpoint.Contents] = [], clusterings: [Checkpoint.Contents] = []
        for ranks in [1, 2] {
            let spnRun = try Launcher.mpirun(ranks: ranks, ["train-spn", "--data", Self.mnist, "--model", "lenet", "--classes", "0,1,2,3,4",
                                                            "--out", "\(work)/spn\(ranks)", "--lr", "0.003"] + sgd)
            XCTAssertEqual(spnRun.status, 0, spnRun.stderr)
            XCTAssertNotNil(spnRun.summary?["spn_f1_similar"] as? Double)
            spns.append(try Checkpoint.load("\(work)/spn\(ranks)/spn.safetensors"))
            let clusterRun = try Launcher.mpirun(ranks: ranks, ["cluster", "--spn", "\(work)/spn1/spn.safetensors", "--data", Self.mnist,
                                                                "--classes", "5,6,7,8,9", "--loss", "mcl", "--clusters", "5",
                                                                "--warm-up-steps", "20", "--out", "\(work)/cluster\(ranks)", "--lr", "0.01"] + sgd)
            XCTAssertEqual(clusterRun.status, 0, clusterRun.stderr)
            let summary = try XCTUnwrap(clusterRun.summary, clusterRun.stdout)
            for key in ["acc", "nmi", "ari", "clusters_estimated", "clusters_true", "k", "spn_f1_similar", "kmeans_acc", "ranks",
                        "global_batch", "steps", "checkpoint", "kmeans_warm_up_features_acc"] {
                XCTAssertNotNil(summary[key], "cluster summary lacks \(key)")
            }
            XCTAssertEqual(summary["neighbours_per_sample"] as? Int, 10, "by default batches pair samples with neighbours (k = 10 here)")
            XCTAssertEqual(summary["warm_up_steps"] as? Int, 20)
            clusterings.append(try Checkpoint.load("\(work)/cluster\(ranks)/model.safetensors"))
        }
        XCTAssertTrue(spns[0].tensors.keys.contains("head.linear1.weight") && spns[0].tensors.keys.contains("head.bn.running_var"))
        XCTAssertLessThanOrEqual(spns[0].wholeDifference(to: spns[1]), 1e-4, "spn: \(spns[0].relativeDifferences(to: spns[1]).prefix(3))")
        XCTAssertLessThanOrEqual(clusterings[0].wholeDifference(to: clusterings[1]), 1e-4,
                                 "cluster: \(clusterings[0].relativeDifferences(to: clusterings[1]).prefix(3))")
    }

    func testOracleTransferReportsTheProtocolSummary() throws {
        let run = try Launcher.mpirun(ranks: 2, ["transfer", "--data", TestData.syntheticDigits, "--model", "mlp", "--target-classes", "5,6,7,8,9",
                                                 "--oracle-similarity", "--clusters", "5", "--epochs", "3", "--batch-size", "20"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        XCTAssertEqual(summary["clusters_true"] as? Int, 5)
        XCTAssertGreaterThan(summary["acc"] as! Double, 0.9)
        XCTAssertTrue(summary["spn_f1_similar"] is NSNull)
    }

    func testUnknownClassIsNamed() throws {
        let run = try Launcher.mpirun(ranks: 2, ["transfer", "--data", Self.mnist, "--aux-classes", "0,1", "--target-classes", "7,12",
                                                 "--clusters", "2"], timeout: 60)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("class(es) [12] not in"), run.stderr)
    }
}

/// The character-benchmark protocol on a tiny image-folder tree.
final class AlphabetTransferTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "l2c-alphabets-\(UUID().uuidString)"
        var state: UInt64 = 7
        func noise() -> Int { state = state &* 6364136223846793005 &+ 1; return Int(state >> 59) }
        for alphabet in ["A", "B", "C"] {
            for c in 0..<4 {
                let folder = "\(root)/\(alphabet)/c\(c)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let prototype = (0..<(20 * 20)).map { ($0 * (c + 3) + alphabet.unicodeScalars.first!.hashValue) % 7 < 3 ? 220 : 20 }
                for n in 0..<10 {
                    try PNGWriter.writeGrey("\(folder)/\(n).png", pixels: prototype.map { UInt8(clamping: $0 + noise() - 8) }, width: 20, height: 20)
                }
            }
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func testAlphabetTransferReportsPerAlphabetScores() throws {
        let run = try Launcher.mpirun(ranks: 2, ["transfer", "--data", root, "--model", "lenet", "--aux-alphabets", "A,B", "--target-alphabets", "C",
                                                 "--classes-per-batch", "4", "--samples-per-class", "4", "--batch-size", "20",
                                                 "--spn-epochs", "2", "--epochs", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        let rows = try XCTUnwrap(summary["alphabets"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["alphabet"] as? String, "C")
        XCTAssertEqual(rows[0]["characters"] as? Int, 4)
        for key in ["acc", "nmi", "ari", "clusters_estimated", "clusters_true", "kmeans_acc", "spn_f1_similar"] {
            XCTAssertNotNil(summary[key], "summary lacks \(key)")
        }
        let missing = try Launcher.mpirun(ranks: 2, ["transfer", "--data", root, "--aux-alphabets", "A,Z", "--target-alphabets", "C"], timeout: 60)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("alphabet 'Z' does not exist"), missing.stderr)
    }
}

extension AlphabetTransferTests {
    /// The failure of a new user on a small set: epoch defaults gave both networks a handful of steps. Without
    /// --epochs, each network now trains at least the step budget, and says so.
    func testASmallSetTrainsForTheStepBudgetByDefault() throws {
        let run = try Launcher.mpirun(ranks: 2, ["transfer", "--data", root, "--model", "lenet", "--aux-alphabets", "A,B", "--target-alphabets", "C",
                                                 "--classes-per-batch", "4", "--samples-per-class", "4", "--batch-size", "20"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let budget = "\(CrossTask.stepBudget) steps (default: a budget of \(CrossTask.stepBudget) steps"
        XCTAssertTrue(run.stderr.contains("spn: lenet + pair head on 80 samples") && run.stderr.contains(budget), run.stderr)
        XCTAssertTrue(run.stderr.contains("cluster: lenet, K=4, 40 unlabelled samples, " + budget), run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        XCTAssertNotNil(summary["dissimilar_pairs_together"] as? Double, "the collapse check's number is reported")
    }

    /// `train-spn --alphabets`: the SPN learns the characters of the named alphabets and is scored on the others'
    /// (unseen classes); its checkpoint serves `adapt --spn`.
    func testTrainSPNLearnsNamedAlphabetsAndScoresOnTheOthers() throws {
        let run = try Launcher.mpirun(ranks: 2, ["train-spn", "--data", root, "--model", "lenet", "--alphabets", "A,B",
                                                 "--classes-per-batch", "4", "--samples-per-class", "4", "--epochs", "2", "--out", root + "/spn"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        XCTAssertEqual(summary["classes"] as? Int, 8, "the characters of A and B")
        XCTAssertEqual(summary["global_batch"] as? Int, 16, "4 classes × 4 samples")
        XCTAssertNotNil(summary["spn_f1_similar"] as? Double)
        let spn = try Checkpoint.load(root + "/spn/spn.safetensors")
        XCTAssertEqual(spn.metadata["format"], "l2c-spn-1")
        XCTAssertEqual([spn.metadata["height"], spn.metadata["width"]], ["20", "20"])
    }

    /// Stopped while it clusters its second target alphabet, the run keeps the first alphabet's scores,
    /// continues the second bit for bit, and reports what an uninterrupted run reports.
    func testAnAlphabetRunStoppedInItsSecondAlphabetResumesWithTheSameScores() throws {
        let transfer = ["transfer", "--data", root, "--model", "lenet", "--aux-alphabets", "A", "--target-alphabets", "B,C",
                        "--classes-per-batch", "4", "--samples-per-class", "4", "--batch-size", "20", "--spn-epochs", "2",
                        "--epochs", "300", "--checkpoint-every", "20"]
        let whole = try Launcher.mpirun(ranks: 2, transfer + ["--out", root + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let out = root + "/stopped"
        let job = try Launcher.start(ranks: 2, transfer + ["--out", out])
        XCTAssertTrue(RunningJob.poll(timeout: 120) { StateFolder(out: out).states().contains { $0.path.contains("-cluster.1-") } },
                      "no state of the second alphabet appeared")
        kill(job.pid, SIGUSR1)
        let stopped = job.wait(timeout: 120)
        XCTAssertEqual(stopped.status, 3, stopped.stderr)
        let resumed = try Launcher.mpirun(ranks: 2, transfer + ["--out", out, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let (a, b) = (try XCTUnwrap(whole.summary?["alphabets"] as? [[String: Any]]), try XCTUnwrap(resumed.summary?["alphabets"] as? [[String: Any]]))
        XCTAssertEqual(a.count, 2)
        XCTAssertEqual(b.count, 2)
        for (x, y) in zip(a, b) {
            for key in ["alphabet", "acc", "nmi", "ari", "clusters_estimated", "kmeans_acc"] {
                XCTAssertEqual("\(x[key] ?? "nil")", "\(y[key] ?? "nil")", "\(x["alphabet"] ?? "") \(key)")
            }
        }
    }
}
