import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor
import XCTest

/// `--init FILE.safetensors`: a backbone from a file written the way a PyTorch user writes one, here by Python's
/// `safetensors` package with numpy (the environment deploy/install-deps.sh makes).
final class PretrainedWeightsTests: XCTestCase {
    static let python = ProcessInfo.processInfo.environment["L2C_PYTHON"] ?? "/opt/l2c/python/bin/python3"

    /// Runs `script` (Python) with the file path as its argument; returns the path.
    private func writeWithPython(_ script: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            XCTFail("no \(Self.python): run deploy/install-deps.sh (it makes that Python environment with numpy and safetensors)")
            throw CocoaError(.fileNoSuchFile)
        }
        let path = NSTemporaryDirectory() + "l2c-init-\(UUID().uuidString).safetensors"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-c", script, path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, message)
        return path
    }

    private func lenet() -> Sequential {
        Architecture.lenet.build(channels: 1, height: 28, width: 28, outputs: 10, seed: 1, communicator: nil)
    }

    /// Matching names and shapes load (float16 and float64 converted); the rest is reported by kind; the
    /// classifier head is never loaded.
    func testLoadsWhatMatchesAndReportsTheRest() throws {
        let path = try writeWithPython("""
            import sys, numpy as np
            from safetensors.numpy import save_file
            save_file({
                "conv1.weight": np.full((20, 1, 5, 5), 0.5, dtype=np.float32),
                "bn1.running_mean": np.full((20,), 0.25, dtype=np.float64),
                "bn1.weight": np.full((20,), 1.5, dtype=np.float16),
                "bn1.num_batches_tracked": np.array(7, dtype=np.int64),
                "conv2.weight": np.zeros((50, 20, 3, 3), dtype=np.float32),
                "fc2.weight": np.ones((1000, 500), dtype=np.float32),
                "fc2.bias": np.ones((1000,), dtype=np.float32),
                "extra.weight": np.ones((3,), dtype=np.float32),
            }, sys.argv[1])
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = lenet()
        let headBefore = model.stateTensors.first { $0.name == "fc2.weight" }!.tensor.array
        let report = try PretrainedWeights.load(path, into: model.stateTensors, skippingHead: Architecture.lenet.outputLayerName)
        XCTAssertEqual(Set(report.loaded), ["conv1.weight", "bn1.running_mean", "bn1.weight"])
        XCTAssertEqual(report.mismatched, ["conv2.weight file [50, 20, 3, 3], model [50, 20, 5, 5]"])
        XCTAssertEqual(Set(report.unexpected), ["bn1.num_batches_tracked", "extra.weight"])
        XCTAssertEqual(Set(report.skippedHead), ["fc2.weight", "fc2.bias"])
        XCTAssertTrue(report.missing.contains("fc1.weight"))
        XCTAssertFalse(report.missing.contains { $0.hasPrefix("fc2.") }, "the head is neither loaded nor missing")
        let state = Dictionary(uniqueKeysWithValues: model.stateTensors.map { ($0.name, $0.tensor) })
        XCTAssertEqual(Set(state["conv1.weight"]!.array), [0.5])
        XCTAssertEqual(Set(state["bn1.running_mean"]!.array), [0.25])
        XCTAssertEqual(Set(state["bn1.weight"]!.array), [1.5])
        XCTAssertEqual(state["fc2.weight"]!.array, headBefore, "the head keeps its initialisation")
        XCTAssertTrue(report.summary.contains("loaded 3 tensors"), report.summary)
    }

    func testAFileWithNothingInCommonIsAnErrorNamingTheOption() throws {
        let path = try writeWithPython("""
            import sys, numpy as np
            from safetensors.numpy import save_file
            save_file({"features.0.weight": np.ones((64, 3, 11, 11), dtype=np.float32)}, sys.argv[1])
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try PretrainedWeights.load(path, into: lenet().stateTensors, skippingHead: "fc2")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("--init: \(path): none of its 1 tensors matches"), message)
            XCTAssertTrue(message.contains("features.0.weight"), message)
        }
    }
}
