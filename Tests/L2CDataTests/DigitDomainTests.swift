import Foundation
import L2CData
import XCTest

/// The second real digit domain, fetched by deploy/fetch-data.sh (the test command runs it): the UCI
/// "multiple features" Dutch handwritten digits, normalised as MNIST is.
final class DigitDomainTests: XCTestCase {
    static let mfeat = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/mfeat").path

    func testMfeatHoldsTwoThousandDigitsSplitEightyTwentyPerClass() throws {
        let train = try DataSource.open(Self.mfeat).load(.train)
        let test = try DataSource.open(Self.mfeat).load(.test)
        XCTAssertEqual([train.count, test.count], [1600, 400])
        XCTAssertEqual([train.channels, train.height, train.width], [1, 28, 28], "MNIST's layout")
        for digit in 0..<10 {
            XCTAssertEqual(train.labels.filter { $0 == digit }.count, 160)
            XCTAssertEqual(test.labels.filter { $0 == digit }.count, 40)
        }
    }

    /// Each digit fills at most a 20×20 box whose centre of mass lies near the centre of the 28×28 image.
    func testDigitsAreNormalisedAsMNISTIs() throws {
        let train = try DataSource.open(Self.mfeat).load(.train)
        for sample in stride(from: 0, to: train.count, by: 97) {
            let pixels = train.images[(sample * 784)..<((sample + 1) * 784)]
            var mass: Float = 0, cx: Float = 0, cy: Float = 0
            var rows = Set<Int>(), columns = Set<Int>()
            for (k, v) in pixels.enumerated() where v > 0 {
                mass += v; cx += v * Float(k % 28); cy += v * Float(k / 28)
                rows.insert(k / 28); columns.insert(k % 28)
            }
            XCTAssertGreaterThan(mass, 0)
            XCTAssertEqual(cx / mass, 13.5, accuracy: 1.0, "sample \(sample)")
            XCTAssertEqual(cy / mass, 13.5, accuracy: 1.0, "sample \(sample)")
            XCTAssertLessThanOrEqual(rows.count, 21)
            XCTAssertLessThanOrEqual(columns.count, 21)
        }
    }
}
