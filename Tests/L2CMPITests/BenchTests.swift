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

    /// oneDNN capped below its bf16 kernels (ONEDNN_MAX_CPU_ISA, as on a CPU without them): bf16 is refused on every
    /// rank with one line naming what is missing, and auto runs fp32.
    func testBF16WhereOneDNNCannotRunItNativelyIsRefusedAndAutoFallsToFP32() throws {
        let capped = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-x", "ONEDNN_MAX_CPU_ISA=AVX2", "-np", "2", Launcher.l2c,
                      "bench", "--model", "resnet18", "--image-size", "16", "--batch-size", "4", "--steps", "1", "--warmup", "0", "--threads", "1"]
        let refused = try Launcher.run("/usr/bin/mpirun", capped + ["--precision", "bf16"], timeout: 60)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertLessThan(refused.seconds, 30)
        let lines = refused.stderr.split(separator: "\n").filter { $0.contains("--precision bf16: this machine lacks") }
        XCTAssertFalse(lines.isEmpty, refused.stderr)
        XCTAssertTrue(lines.allSatisfy { $0.hasSuffix("use --precision fp32 or auto") }, refused.stderr)
        let auto = try Launcher.run("/usr/bin/mpirun", capped + ["--precision", "auto"], timeout: 120)
        XCTAssertEqual(auto.status, 0, auto.stderr)
        XCTAssertEqual(auto.summary?["precision"] as? String, "fp32")
        XCTAssertTrue(auto.stderr.contains("--precision auto: no native bf16 here"), auto.stderr)
    }
}
