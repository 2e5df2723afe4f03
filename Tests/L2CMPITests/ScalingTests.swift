import Foundation
import XCTest

/// `l2c scaling`: one command runs the study, writes one CSV row per rank count and a self-contained report.
final class ScalingTests: XCTestCase {
    /// The contract command of the scaling study, on this host (weak scaling, 32 images per rank).
    func testAWeakScalingStudyWritesOneRowAndOnePointPerRun() throws {
        let out = NSTemporaryDirectory() + "l2c-scaling-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Launcher.run(Launcher.l2c, ["scaling", "--ranks", "1,2", "--model", "resnet18", "--image-size", "32", "--batch-size", "32",
                                                  "--steps", "3", "--out", out, "--mpirun-args=--allow-run-as-root --oversubscribe"], timeout: 240)
        XCTAssertEqual(run.status, 0, run.stderr)

        let lines = try String(contentsOfFile: out + "/scaling.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try XCTUnwrap(lines.first)
        for column in ["ranks", "images_per_sec", "efficiency", "allreduce_exposed_seconds", "allreduce_seconds", "hosts", "global_batch",
                       "forward_seconds", "backward_seconds", "batchnorm_sync_seconds", "optimizer_seconds", "predicted_step_seconds"] {
            XCTAssertTrue(header.contains(column), "scaling.csv lacks \(column): \(header)")
        }
        let rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        XCTAssertEqual(rows.map { $0["ranks"] }, ["1", "2"])
        XCTAssertEqual(rows.map { $0["global_batch"] }, ["32", "64"], "weak scaling: 32 images per rank")
        XCTAssertEqual(rows[0]["efficiency"], "1", "the smallest run is the baseline")
        XCTAssertGreaterThan(Double(rows[1]["images_per_sec"] ?? "") ?? 0, 0)
        XCTAssertGreaterThan(Double(rows[1]["allreduce_seconds"] ?? "") ?? 0, 0, "two ranks exchange gradients")
        XCTAssertGreaterThan(Double(rows[1]["predicted_step_seconds"] ?? "") ?? 0, 0, "the network was measured for a prediction")

        let html = try String(contentsOfFile: out + "/scaling.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 3, "throughput, efficiency, breakdown")
        XCTAssertEqual(html.components(separatedBy: "class=\"run\"").count - 1, 2, "one throughput point per run")
        XCTAssertEqual(html.components(separatedBy: "class=\"run-efficiency\"").count - 1, 2, "one efficiency point per run")
        XCTAssertTrue(html.contains("class=\"predicted\""), "the prediction is drawn beside the measurements")
        XCTAssertFalse(html.contains("<script"), "self-contained, no scripts")
    }

    func testRankCountsThatAreNotNumbersAreRejectedInOneLine() throws {
        let out = NSTemporaryDirectory() + "l2c-scaling-bad-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let run = try Launcher.run(Launcher.l2c, ["scaling", "--ranks", "1,two", "--out", out], timeout: 30)
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("--ranks: expected rank counts ≥ 1 separated by commas, got '1,two'"), run.stderr)
    }
}
