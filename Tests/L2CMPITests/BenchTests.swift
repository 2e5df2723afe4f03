import Foundation
import L2CTensor
import XCTest

/// `l2c bench` against an honest peak: the widest FMA this CPU has, so no correct measurement exceeds it.
final class BenchTests: XCTestCase {
    func testAModelStepNeverRunsAboveTheMeasuredPeak() throws {
        let run = try Launcher.mpirun(ranks: 1, ["bench", "--model", "resnet18", "--image-size", "32", "--batch-size", "16", "--steps", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        let fraction = try XCTUnwrap(summary["peak_fraction"] as? Double)
        XCTAssertGreaterThan(fraction, 0)
        XCTAssertLessThanOrEqual(fraction, 1, "gflops \(summary["gflops"] ?? "?") against a peak of \(summary["peak_gflops"] ?? "?")")
        let features = CPUFeatures.detected
        XCTAssertEqual(summary["peak_isa"] as? String, features.avx512 ? "avx512" : "avx2")
        if features.avx512BF16 {
            let bf16 = try XCTUnwrap(summary["peak_bf16_gflops"] as? Double)
            XCTAssertGreaterThan(bf16, try XCTUnwrap(summary["peak_gflops"] as? Double), "a bf16 dot product does twice the FLOPs of an fp32 FMA per lane")
        } else {
            XCTAssertTrue(summary["peak_bf16_gflops"] is NSNull)
        }
    }

    func testInfoNamesTheISAOneDNNDispatchesTo() throws {
        let run = try Launcher.mpirun(ranks: 1, ["info"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        let isa = try XCTUnwrap(summary["onednn_isa"] as? String)
        XCTAssertTrue(isa.hasPrefix("avx2") || isa.hasPrefix("avx512"), isa)
        XCTAssertEqual(summary["cpu_native_bf16"] as? Bool, CPUFeatures.detected.nativeBF16)
    }
}
