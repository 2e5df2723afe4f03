import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// ACOL + GAR on real ranks.
final class ACOLTests: XCTestCase {
    private func train(ranks: Int, steps: Int, out: String) throws -> Checkpoint.Contents {
        let run = try Launcher.mpirun(ranks: ranks, ["acol", "--data", TestData.mnist, "--parents", "2", "--duplicates", "5",
                                                     "--batch-size", "64", "--steps", "\(steps)", "--optimizer", "sgd", "--lr", "0.01",
                                                     "--seed", "2", "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        for key in ["acc", "nmi", "ari", "coarse_acc", "parents", "duplicates", "dead_nodes", "ranks", "global_batch", "steps", "checkpoint"] {
            XCTAssertNotNil(summary[key], "acol summary lacks \(key)")
        }
        return try Checkpoint.load(out + "/model.safetensors")
    }

    /// LeNet with ACOL (2 parents × 5 nodes) and GAR, SGD: 1 rank × 64 equals 2 ranks × 32.
    ///
    /// For 5 steps every tensor agrees to float rounding. GAR drives the losing nodes' activities down to the
    /// ReLU kink of Z̄ = max(Z, 0), where its gradient jumps, so activities pile up exactly there and a
    /// rounding-level difference eventually sends one across: after 20 steps the whole model agrees within 1e-4
    /// (max-norm over all parameters), single BatchNorm shifts to a few 1e-3 of their tiny size.
    func testACOLOnTwoRanksEqualsOneRank() throws {
        let work = NSTemporaryDirectory() + "l2c-acol-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let early = try [1, 2].map { try train(ranks: $0, steps: 5, out: "\(work)/early\($0)") }
        for (name, a) in early[0].tensors {
            let b = early[1].tensors[name]!.values
            let scale = a.values.map(abs).max() ?? 0
            let difference = zip(a.values, b).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(difference, 1e-5 * scale, "after 5 steps, \(name): \(difference) of \(scale)")
        }
        let late = try [1, 2].map { try train(ranks: $0, steps: 20, out: "\(work)/\($0)") }
        let names = late[0].tensors.keys.filter { !$0.contains("running") }
        let difference = names.map { n in zip(late[0].tensors[n]!.values, late[1].tensors[n]!.values).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        let scale = names.map { late[0].tensors[$0]!.values.map(abs).max() ?? 0 }.max() ?? 1
        XCTAssertLessThanOrEqual(difference / scale, 1e-4, "after 20 steps")
        let mismatch = try Launcher.mpirun(ranks: 2, ["eval", "--checkpoint", "\(work)/1/model.safetensors", "--data", TestData.mnist,
                                                      "--parents", "3"], timeout: 60)
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.stderr.contains("2 parents × 5 duplicates = 10 ACOL nodes; --parents 3 --duplicates 5 asks for 15"), mismatch.stderr)
    }

    func testUnmappedClassStopsTheRun() throws {
        let map = NSTemporaryDirectory() + "l2c-map-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: map) }
        try (0..<9).map { "\($0) \($0 < 5 ? 0 : 1)" }.joined(separator: "\n").write(toFile: map, atomically: true, encoding: .utf8)
        let run = try Launcher.mpirun(ranks: 2, ["acol", "--data", TestData.mnist, "--coarse-map", map, "--steps", "1"], timeout: 60)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("class(es) [9] of the data are not mapped"), run.stderr)
    }
}
