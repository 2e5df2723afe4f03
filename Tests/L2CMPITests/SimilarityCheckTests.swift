import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// The similarity network checked while it trains: scored on held-out classes, its best state kept, the threshold
/// that would suit those pairs reported, a network that learnt nothing warned about.
final class SimilarityCheckTests: XCTestCase {
    private var root = ""

    /// One alphabet of 12 characters, 8 noisy images each of its 20×20 prototype (in root/data; runs write beside it).
    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "l2c-spn-check-\(UUID().uuidString)"
        var state: UInt64 = 11
        func noise() -> Int { state = state &* 6364136223846793005 &+ 1; return Int(state >> 59) }
        for c in 0..<12 {
            let folder = "\(root)/data/aux/c\(c)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let prototype = (0..<400).map { ($0 * (c + 3) + c * 7) % 11 < 4 ? 220 : 20 }
            for n in 0..<8 {
                try PNGWriter.writeGrey("\(folder)/\(n).png", pixels: prototype.map { UInt8(clamping: $0 + noise() - 8) }, width: 20, height: 20)
            }
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    private func trainSPN(_ extra: [String]) throws -> Launch {
        try Launcher.mpirun(ranks: 2, ["train-spn", "--data", root + "/data", "--alphabets", "aux", "--model", "lenet", "--classes-per-batch", "4",
                                       "--samples-per-class", "4", "--out", root + "/spn"] + extra)
    }

    func testTheSPNIsScoredOnHeldOutClassesAndKeepsItsBestStateAndThreshold() throws {
        let run = try trainSPN(["--steps", "60"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("spn: lenet + pair head on 80 samples of 10 classes, 60 steps, checked on 16 held-out samples of 2 classes"), run.stderr)
        XCTAssertTrue(run.stderr.contains("spn check at step 3: held-out F1"), run.stderr)
        XCTAssertTrue(run.stderr.contains("spn check at step 60: held-out F1"), run.stderr)
        XCTAssertTrue(run.stderr.contains("spn: kept the state of step"), run.stderr)
        XCTAssertTrue(run.stderr.contains("learning all 12 classes for"), "the check's classes are learnt too: \(run.stderr)")
        let summary = try XCTUnwrap(run.summary, run.stdout)
        let f1 = try XCTUnwrap(summary["spn_heldout_best_f1"] as? Double)
        XCTAssertNotNil(summary["spn_heldout_f1"] as? Double, "the F1 at the threshold the network decides with")
        let threshold = try XCTUnwrap(summary["spn_heldout_best_threshold"] as? Double)
        XCTAssertTrue(f1 > 0 && f1 <= 1 && threshold > 0 && threshold < 1, "F1 \(f1), threshold \(threshold)")
        XCTAssertEqual(summary["spn_threshold"] as? Double, 0.5, "the network decides at p = 0.5")
        let checkpoint = try Checkpoint.load(root + "/spn/spn.safetensors")
        XCTAssertEqual(checkpoint.metadata["similarity_threshold"], "0.5000", "the threshold travels with the network")
        XCTAssertNotNil(checkpoint.metadata["heldout_f1"])
        XCTAssertNotNil(checkpoint.metadata["decision_margin"].flatMap(Float.init))
    }

    /// The best state so far travels in the training state: resumed at step 30 of the check, the run keeps the
    /// same best, learns all classes for as long, and writes the same network, byte for byte.
    func testAResumedRunKeepsTheSameBestState() throws {
        let whole = try trainSPN(["--steps", "60", "--checkpoint-every", "30", "--keep-checkpoints", "5"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let state = root + "/spn/checkpoints/state-000001-spn.check-step00000030.safetensors"
        let resumed = try Launcher.mpirun(ranks: 2, ["train-spn", "--data", root + "/data", "--alphabets", "aux", "--model", "lenet", "--classes-per-batch", "4",
                                                     "--samples-per-class", "4", "--steps", "60", "--resume", state, "--out", root + "/resumed"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: root + "/spn/spn.safetensors"),
                       FileManager.default.contents(atPath: root + "/resumed/spn.safetensors"), "byte for byte")
    }

    /// One step teaches nothing: the best held-out F1 is no better than calling every pair similar.
    func testAnSPNThatLearntNothingIsWarnedAbout() throws {
        let run = try trainSPN(["--steps", "1", "--lr", "0"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("warning: the similarity network does not tell pairs of held-out classes apart"), run.stderr)
        XCTAssertTrue(run.stderr.contains("Try more SPN steps"), run.stderr)
    }
}
