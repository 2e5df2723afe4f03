import Foundation
import L2CData
import XCTest

/// `l2c train` on a JPEG class folder, on real ranks: streamed through the decode workers, scored on the
/// decoded folder, and a corrupt file either stops the run with its path or is skipped.
final class ImageFolderTrainingTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "l2c-jpeg-train-\(UUID().uuidString)"
        for c in 0..<2 {
            let dir = "\(root)/train/class\(c)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<8 {
                // Class 0 bright red-ish, class 1 dark blue-ish, with some texture.
                let (w, h) = (48 + 4 * i, 40 + 2 * i)
                var pixels = [UInt8](repeating: 0, count: w * h * 3)
                for p in 0..<(w * h) {
                    let t = UInt8((p * 7 + i * 13) % 40)
                    pixels[p * 3] = c == 0 ? 200 + t : 20 + t
                    pixels[p * 3 + 1] = 60 + t
                    pixels[p * 3 + 2] = c == 0 ? 30 + t : 190 + t
                }
                try JPEGWriter.write("\(dir)/img\(i).JPEG", RGBImage(pixels: pixels, width: w, height: h))
            }
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func train(_ extra: [String]) throws -> Launch {
        try Launcher.mpirun(ranks: 2, ["train", "--data", "\(root)/train", "--image-size", "32", "--model", "resnet18", "--loss", "kcl",
                                       "--clusters", "2", "--batch-size", "8", "--steps", "4", "--optimizer", "sgd", "--lr", "0.01",
                                       "--workers", "1"] + extra)
    }

    /// Packed into tar shards, the folder trains the same model, bit for bit: the shards keep the folder's sample
    /// order, and the batches are defined by the seed and the epoch alone.
    func testShardsOfTheFolderTrainTheSameModelAsTheFolder() throws {
        let pack = try Launcher.run(Launcher.l2c, ["pack", "\(root)/train", "--out", "\(root)/shards"], timeout: 60)
        XCTAssertEqual(pack.status, 0, pack.stderr)
        XCTAssertTrue(pack.stdout.contains("\"samples\":16"), pack.stdout)
        let folder = try train(["--out", "\(root)/from-folder"])
        let shards = try Launcher.mpirun(ranks: 2, ["train", "--data", "\(root)/shards", "--image-size", "32", "--model", "resnet18", "--loss", "kcl",
                                                    "--clusters", "2", "--batch-size", "8", "--steps", "4", "--optimizer", "sgd", "--lr", "0.01",
                                                    "--workers", "1", "--out", "\(root)/from-shards"])
        for run in [folder, shards] { XCTAssertEqual(run.status, 0, run.stderr) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(root)/from-folder/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(root)/from-shards/model.safetensors")))
        XCTAssertEqual(folder.summary?["acc"] as? Double, shards.summary?["acc"] as? Double)
    }

    /// The decode workers of a resumed run start at the batch where the state stopped (mid-epoch here: two
    /// batches an epoch), so the run ends bit for bit where an uninterrupted one does.
    func testAResumedImageFolderRunReadsTheSameBatchesAndEndsBitForBit() throws {
        let whole = try train(["--steps", "7", "--no-eval", "--out", "\(root)/whole"])
        let first = try train(["--steps", "3", "--no-eval", "--out", "\(root)/resumed"])
        let rest = try train(["--steps", "7", "--no-eval", "--out", "\(root)/resumed", "--resume"])
        for run in [whole, first, rest] { XCTAssertEqual(run.status, 0, run.stderr) }
        XCTAssertTrue(rest.stderr.contains("train step 3"), rest.stderr)
        let (a, b) = (try Data(contentsOf: URL(fileURLWithPath: "\(root)/whole/model.safetensors")),
                      try Data(contentsOf: URL(fileURLWithPath: "\(root)/resumed/model.safetensors")))
        XCTAssertTrue(a == b, "the resumed image-folder run differs from the uninterrupted one")
    }

    func testTrainsOnAJPEGFolderAcrossRanksAndScoresIt() throws {
        let run = try train([])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        XCTAssertEqual(summary["ranks"] as? Int, 2)
        XCTAssertEqual(summary["steps"] as? Int, 4)
        XCTAssertNotNil(summary["acc"], "scored on the decoded folder")
    }

    func testACorruptFileFailsWithItsPathOrIsSkipped() throws {
        let bad = "\(root)/train/class1/img3.JPEG"
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A]).write(to: URL(fileURLWithPath: bad))   // a truncated JPEG
        let failed = try train(["--no-eval"])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains(bad), failed.stderr)
        let skipped = try train(["--no-eval", "--bad-images", "skip"])
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        XCTAssertTrue(skipped.stderr.contains("skipping \(bad)"), skipped.stderr)
    }
}
