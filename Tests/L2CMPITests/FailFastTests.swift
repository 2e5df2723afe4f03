import Foundation
import L2CData
import XCTest

/// Bad input on real ranks: a one-line error naming the problem, a non-zero exit, within seconds, no hang.
final class FailFastTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "l2c-fail-\(UUID().uuidString)"
        try SyntheticDigits.write(to: folder, train: 40, test: 10)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func expectFailure(_ arguments: [String], ranks: Int = 2, mentioning needles: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try Launcher.mpirun(ranks: ranks, arguments, timeout: 60)
        XCTAssertNotEqual(run.status, 0, "must fail: \(arguments)", file: file, line: line)
        XCTAssertLessThan(run.seconds, 30, "must fail fast", file: file, line: line)
        let errors = run.stderr.split(separator: "\n").filter { $0.contains("l2c: error") }
        XCTAssertFalse(errors.isEmpty, run.stderr, file: file, line: line)
        for needle in needles {
            XCTAssertTrue(errors.contains { $0.contains(needle) }, "no error line mentions '\(needle)':\n\(run.stderr)", file: file, line: line)
        }
    }

    private func train(_ extra: [String]) -> [String] {
        ["train", "--data", folder, "--model", "mlp", "--loss", "kcl", "--clusters", "10", "--batch-size", "8", "--steps", "2"] + extra
    }

    func testTruncatedIDXFile() throws {
        let path = folder + "/train-images-idx3-ubyte"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(5000).write(to: URL(fileURLWithPath: path))
        try expectFailure(train([]), mentioning: [path, "truncated"])
    }

    func testMissingFile() throws {
        try FileManager.default.removeItem(atPath: folder + "/t10k-labels-idx1-ubyte")
        try expectFailure(train([]), mentioning: ["t10k-labels-idx1-ubyte", "no such file"])
    }

    func testCSVRowWithWrongColumnCount() throws {
        let csv = folder + "/digits.csv"
        let good = Array(repeating: "0", count: 784).joined(separator: ",") + ",1\n"
        try (good + good + "0,0,3\n").write(toFile: csv, atomically: true, encoding: .utf8)
        try expectFailure(["train", "--data", csv, "--model", "mlp", "--batch-size", "2", "--steps", "1", "--no-eval"],
                          mentioning: ["digits.csv", "line 3", "expected 785"])
    }

    func testIndivisibleBatch() throws {
        try expectFailure(train(["--batch-size", "9"]), mentioning: ["not divisible by the 2 ranks"])
    }

    func testMoreRanksThanSamples() throws {
        let tiny = folder + "/tiny"
        try SyntheticDigits.write(to: tiny, train: 2, test: 2)
        try expectFailure(["train", "--data", tiny, "--model", "mlp", "--batch-size", "3", "--steps", "1"], ranks: 3,
                          mentioning: ["2 training samples", "3 ranks"])
    }

    func testRanksWithDifferentConfigurationsStop() throws {
        let run = try Launcher.mpirun(ranks: 1, train(["--seed", "1"]), mpmd: [train(["--seed", "2"])], timeout: 60)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("ranks disagree about the configuration"), run.stderr)
    }
}
