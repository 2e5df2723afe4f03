import Foundation
import L2CData
import XCTest

/// deploy/make-printed-digits.sh: the printed-digit domain, rendered from the fonts deploy/install-deps.sh installs.
final class PrintedDigitsTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/make-printed-digits.sh").path

    private func render(seed: Int) throws -> String {
        let folder = NSTemporaryDirectory() + "l2c-printed-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script, folder, "--seed", "\(seed)", "--train", "3", "--test", "1"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        return folder
    }

    /// 28×28 IDX splits with the digits in turn, from at least 40 faces; the same seed gives the same bytes.
    func testRendersMNISTShapedSplitsFromFortyFacesReproducibly() throws {
        let (a, b, c) = (try render(seed: 7), try render(seed: 7), try render(seed: 8))
        defer { for folder in [a, b, c] { try? FileManager.default.removeItem(atPath: folder) } }
        let train = try DataSource.open(a + "/printed-digits").load(.train), test = try DataSource.open(a + "/printed-digits").load(.test)
        XCTAssertEqual([train.count, train.channels, train.height, train.width], [30, 1, 28, 28])
        XCTAssertEqual(test.count, 10)
        XCTAssertEqual(train.labels, (0..<30).map { $0 % 10 })
        let faces = try String(contentsOfFile: a + "/printed-digits/faces.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(faces.count, 40)
        let images = { (folder: String) in FileManager.default.contents(atPath: folder + "/printed-digits/train-images-idx3-ubyte") }
        XCTAssertEqual(images(a), images(b), "seeded: the same bytes")
        XCTAssertNotEqual(images(a), images(c), "another seed, other images")
    }
}
