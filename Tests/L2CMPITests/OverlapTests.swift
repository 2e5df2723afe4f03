import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// The gradient all-reduce overlapped with backward, on real ranks: buckets on a communication thread with
/// its own communicator, beside synchronised BatchNorm's collectives on the training thread.
final class OverlapTests: XCTestCase {
    /// LeNet with synchronised BatchNorm on real MNIST, KCL, 15 SGD steps at global batch 96.
    private func train(ranks: Int, _ exchange: [String]) throws -> Checkpoint.Contents {
        let out = NSTemporaryDirectory() + "l2c-overlap-\(ranks)-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Launcher.mpirun(ranks: ranks, ["train", "--data", TestData.mnist, "--model", "lenet", "--loss", "kcl", "--clusters", "10",
                                                     "--batch-size", "96", "--steps", "15", "--optimizer", "sgd", "--lr", "0.01",
                                                     "--seed", "7", "--out", out, "--no-eval"] + exchange)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.summary?["ranks"] as? Int, ranks)
        return try Checkpoint.load(out + "/model.safetensors")
    }

    /// Largest difference of any tensor relative to that tensor's largest magnitude.
    private func relativeDifference(_ a: Checkpoint.Contents, _ b: Checkpoint.Contents) throws -> Float {
        var worst: Float = 0
        for (name, x) in a.tensors {
            let y = try XCTUnwrap(b.tensors[name], name)
            let magnitude = max(x.values.map(abs).max() ?? 0, 1e-6)
            worst = max(worst, (zip(x.values, y.values).map { abs($0 - $1) }.max() ?? 0) / magnitude)
        }
        return worst
    }

    /// Two ranks sum a + b in either mode; the bucket layout must not change what is summed.
    func testOverlappedAndBlockingExchangesTrainTheSameModel() throws {
        let blocking = try train(ranks: 2, ["--overlap", "off"])
        let tiny = try train(ranks: 2, ["--overlap", "on", "--bucket-mb", "0.001"])     // 256 floats: every weight split
        let huge = try train(ranks: 2, ["--overlap", "on", "--bucket-mb", "1000"])      // one bucket, sent by finish
        XCTAssertLessThanOrEqual(try relativeDifference(blocking, tiny), 1e-6)
        XCTAssertLessThanOrEqual(try relativeDifference(blocking, huge), 1e-6)
    }

    /// 3 and 4 ranks, each with a communication thread sending small buckets while BatchNorm synchronises on
    /// the training thread, train the model of one rank with the whole batch (to float rounding: more ranks
    /// sum in other orders).
    func testTheCommunicationThreadBesideSynchronisedBatchNormKeepsTheRankContract() throws {
        let one = try train(ranks: 1, [])
        for ranks in [3, 4] {
            let overlapped = try train(ranks: ranks, ["--overlap", "on", "--bucket-mb", "0.01"])
            XCTAssertLessThanOrEqual(try relativeDifference(one, overlapped), 1e-4, "\(ranks) ranks")
        }
    }

    /// bf16 on the wire rounds each gradient to 8 bits of mantissa: the model stays close to the fp32 one (it
    /// is not equal), overlapped or not, and both bf16 paths sum the same way on 2 ranks.
    func testBF16GradientsTrainCloseToFP32() throws {
        let fp32 = try train(ranks: 2, ["--overlap", "off"])
        let bf16Blocking = try train(ranks: 2, ["--overlap", "off", "--allreduce-precision", "bf16"])
        let bf16Overlapped = try train(ranks: 2, ["--overlap", "on", "--allreduce-precision", "bf16", "--bucket-mb", "0.01"])
        let drift = try relativeDifference(fp32, bf16Blocking)
        XCTAssertGreaterThan(drift, 0, "bf16 changes the sums")
        XCTAssertLessThan(drift, 0.05, "15 steps of bf16 gradients stay within 5% of fp32")
        XCTAssertLessThanOrEqual(try relativeDifference(bf16Blocking, bf16Overlapped), 1e-6)
    }

    /// Ranks that disagree on the exchange would issue different collectives: they must fail fast instead.
    func testRanksWithDifferentBucketSizesFailFast() throws {
        let base = ["train", "--data", TestData.mnist, "--model", "lenet", "--steps", "3", "--no-eval"]
        let run = try Launcher.mpirun(ranks: 1, base + ["--bucket-mb", "1"], mpmd: [base + ["--bucket-mb", "2"]], timeout: 60)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertLessThan(run.seconds, 30)
        XCTAssertTrue(run.stderr.contains("ranks disagree about the run options"), run.stderr)
    }

    func testABucketSizeThatIsNotPositiveIsRejectedInOneLine() throws {
        let run = try Launcher.mpirun(ranks: 2, ["train", "--data", TestData.mnist, "--model", "lenet", "--steps", "1", "--no-eval", "--bucket-mb", "0"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("--bucket-mb: must be a positive size in MB, got 0.0"), run.stderr)
    }
}
