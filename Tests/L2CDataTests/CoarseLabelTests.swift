import Foundation
import L2CData
import XCTest

/// Coarse labels from a mapping file or the block rule, and the CIFAR-100 binary format.
final class CoarseLabelTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "l2c-coarse-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func mapFile(_ text: String) throws -> String {
        let path = folder + "/map.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testMappingFileAssignsEveryClass() throws {
        let path = try mapFile("# fine coarse\n0 0\n1 0\n2 1\n3 1\n")
        XCTAssertEqual(try CoarseLabels.read(path, classes: [0, 1, 2, 3], parents: 2), [0: 0, 1: 0, 2: 1, 3: 1])
    }

    func testMappingThatNamesAnUnknownClassIsRejected() throws {
        let path = try mapFile("0 0\n1 0\n7 1\n2 1\n3 1\n")
        XCTAssertThrowsError(try CoarseLabels.read(path, classes: [0, 1, 2, 3], parents: 2)) { error in
            XCTAssertTrue("\(error)".contains("line 3: class 7 is not in the data"), "\(error)")
        }
    }

    func testMappingThatLeavesAClassUnmappedIsRejected() throws {
        let path = try mapFile("0 0\n1 0\n2 1\n")
        XCTAssertThrowsError(try CoarseLabels.read(path, classes: [0, 1, 2, 3], parents: 2)) { error in
            XCTAssertTrue("\(error)".contains("class(es) [3] of the data are not mapped"), "\(error)")
        }
    }

    func testMappingOutsideTheParentsIsRejected() throws {
        let path = try mapFile("0 0\n1 2\n")
        XCTAssertThrowsError(try CoarseLabels.read(path, classes: [0, 1], parents: 2)) { error in
            XCTAssertTrue("\(error)".contains("coarse label 2 outside 0..<2"), "\(error)")
        }
    }

    func testBlocksSplitMNISTIntoHalves() throws {
        let map = try CoarseLabels.blocks(classes: Array(0..<10), parents: 2)
        XCTAssertEqual((0..<10).map { map[$0]! }, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        XCTAssertThrowsError(try CoarseLabels.blocks(classes: Array(0..<10), parents: 3))
    }

    func testReadsCIFAR100BinaryRecords() throws {
        // Two records in the exact layout: coarse, fine, then 1,024 red, 1,024 green, 1,024 blue bytes.
        var bytes: [UInt8] = []
        for (coarse, fine) in [(3, 41), (19, 99)] {
            bytes += [UInt8(coarse), UInt8(fine)]
            bytes += [UInt8](repeating: 255, count: 1024) + [UInt8](repeating: 0, count: 1024) + [UInt8](repeating: 51, count: 1024)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/train.bin"))
        XCTAssertTrue(CIFAR100Reader.recognises(folder))
        let (data, coarse) = try CIFAR100Reader.load(folder, split: .train)
        XCTAssertEqual(data.labels, [41, 99])
        XCTAssertEqual(coarse, [3, 19])
        XCTAssertEqual([data.channels, data.height, data.width], [3, 32, 32])
        XCTAssertEqual(data.images[0], 1)
        XCTAssertEqual(data.images[1024], 0)
        XCTAssertEqual(data.images[2048], 0.2, accuracy: 1e-6)
    }

    func testTruncatedCIFARFileIsNamed() throws {
        let path = folder + "/test.bin"
        try Data([UInt8](repeating: 1, count: 3000)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CIFAR100Reader.read(path)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("3074-byte records"), "\(error)")
        }
    }
}
