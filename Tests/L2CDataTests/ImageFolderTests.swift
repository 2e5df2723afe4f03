import Foundation
import L2CData
import XCTest

/// The Omniglot layout root/<alphabet>/<character>/*.png, and the errors for malformed trees.
final class ImageFolderTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "l2c-folders-\(UUID().uuidString)"
        for (alphabet, characters) in [("Alpha", 2), ("Beta", 3)] {
            for c in 0..<characters {
                let folder = "\(root!)/\(alphabet)/char\(c)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for n in 0..<4 {
                    try PNGWriter.writeGrey("\(folder)/\(n).png", pixels: (0..<64).map { UInt8(($0 * (c + 1) + n) % 256) }, width: 8, height: 8)
                }
            }
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func testLoadsAlphabetsAsClassesOfLeafFolders() throws {
        XCTAssertEqual(try AlphabetCollection.names(in: root), ["Alpha", "Beta"])
        XCTAssertTrue(AlphabetCollection.recognises(root))
        let collection = try AlphabetCollection.load(root: root, alphabets: ["Alpha", "Beta"])
        XCTAssertEqual(collection.dataset.count, 20)
        XCTAssertEqual([collection.dataset.height, collection.dataset.width], [8, 8])
        XCTAssertEqual(collection.alphabetOfClass, [0, 0, 1, 1, 1])
        XCTAssertEqual(collection.classNames[2], "Beta/char0")
        XCTAssertEqual(collection.dataset.images[1], 1 / 255, accuracy: 1e-6, "Alpha/char0, image 0, pixel 1 = 1·(0+1) + 0")
        let beta = collection.alphabet(1)
        XCTAssertEqual(beta.count, 12)
        XCTAssertEqual(beta.classes, [0, 1, 2])
    }

    func testUnreadablePNGIsNamed() throws {
        let bad = "\(root!)/Beta/char1/2.png"
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try AlphabetCollection.load(root: root, alphabets: ["Beta"])) { error in
            XCTAssertTrue("\(error)".contains(bad) && "\(error)".contains("not a readable PNG"), "\(error)")
        }
    }

    func testEmptyClassFolderIsNamed() throws {
        let empty = "\(root!)/Alpha/char9"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try AlphabetCollection.load(root: root, alphabets: ["Alpha"])) { error in
            XCTAssertTrue("\(error)".contains(empty) && "\(error)".contains("no .png images"), "\(error)")
        }
    }

    func testMissingAlphabetIsNamed() {
        XCTAssertThrowsError(try AlphabetCollection.load(root: root, alphabets: ["Gamma"])) { error in
            XCTAssertTrue("\(error)".contains("alphabet 'Gamma' does not exist") && "\(error)".contains("Alpha, Beta"), "\(error)")
        }
    }

    func testImagesOfDifferentSizesAreRejected() throws {
        let odd = "\(root!)/Alpha/char0/9.png"
        try PNGWriter.writeGrey(odd, pixels: [UInt8](repeating: 0, count: 12), width: 4, height: 3)
        XCTAssertThrowsError(try AlphabetCollection.load(root: root, alphabets: ["Alpha"])) { error in
            XCTAssertTrue("\(error)".contains(odd) && "\(error)".contains("4×3, expected 8×8"), "\(error)")
        }
    }

    func testBalancedBatchesHoldEachChosenClassEqually() throws {
        let labels = (0..<60).map { $0 % 6 }
        let sampler = try BalancedClassSampler(labels: labels, classesPerBatch: 3, samplesPerClass: 4, seed: 1)
        XCTAssertEqual(sampler.globalBatch, 12)
        XCTAssertEqual(sampler.batchesPerEpoch, 2)
        let batch = sampler.epochBatches(0)[1]
        let counts = Dictionary(grouping: batch.map { labels[$0] }, by: { $0 }).mapValues(\.count)
        XCTAssertEqual(counts.count, 3)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 4 })
        XCTAssertEqual(batch, sampler.epochBatches(0)[1], "deterministic")
    }
}
