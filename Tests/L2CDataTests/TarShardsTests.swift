import Foundation
import L2CData
import XCTest

/// Tar shards in the WebDataset convention: what `l2c pack` writes reads back sample for sample as the folder it
/// came from, and a damaged index or shard is named with the line or member at fault.
final class TarShardsTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "l2c-shards-\(UUID().uuidString)"
        for (c, name) in ["cat", "dog", "eel"].enumerated() {
            let dir = "\(root)/images/\(name)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<(3 + c) {
                let (w, h) = (20 + 3 * i, 16 + c)
                let pixels = (0..<(w * h * 3)).map { UInt8(($0 * (5 + c) + i * 31) % 256) }
                try JPEGWriter.write("\(dir)/\(i).jpg", RGBImage(pixels: pixels, width: w, height: h))
            }
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func testPackedShardsReadBackAsTheFolderSampleForSample() throws {
        let folder = try ImageFolder(root + "/images")
        // Small shards: a few samples each, so that samples are read from several files.
        let shardCount = try TarShardWriter.pack(folder, into: root + "/shards", shardBytes: 8 << 10)
        XCTAssertGreaterThan(shardCount, 1)
        let source = try DataSource.open(root + "/shards")
        XCTAssertEqual(source.format, .shards)
        let shards = try source.images()
        XCTAssertEqual(shards.count, folder.count)
        XCTAssertEqual(shards.labels, folder.labels)
        XCTAssertEqual(shards.classNames, ["cat", "dog", "eel"])
        for index in 0..<folder.count { XCTAssertEqual(try shards.bytes(index), try folder.bytes(index), "sample \(index)") }
        XCTAssertTrue(shards.name(4).hasSuffix(".tar:000000004"), shards.name(4))
        // Decoded for scoring, the same pixels as the folder's.
        XCTAssertEqual(try source.load(.test, imageSize: 16).images, try DataSource.open(root + "/images").load(.test, imageSize: 16).images)
    }

    func testEveryShardIsAPlainTarWithAnImageAndAClassMemberPerSample() throws {
        try TarShardWriter.pack(try ImageFolder(root + "/images"), into: root + "/shards", shardBytes: 1 << 20)
        let tar = try Data(contentsOf: URL(fileURLWithPath: root + "/shards/shard-000000.tar"))
        var names: [String] = [], offset = 0
        while offset + 512 <= tar.count, tar[offset] != 0 {
            let header = tar.subdata(in: offset..<(offset + 512))
            names.append(String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self))
            let size = Int(String(decoding: header.subdata(in: 124..<135), as: UTF8.self), radix: 8)!
            var sum = header.reduce(0) { $0 + Int($1) }
            sum += 8 * 32 - header.subdata(in: 148..<156).reduce(0) { $0 + Int($1) }
            XCTAssertEqual(Int(String(decoding: header.subdata(in: 148..<154), as: UTF8.self), radix: 8), sum, "checksum of \(names.last!)")
            XCTAssertEqual(String(decoding: header.subdata(in: 257..<262), as: UTF8.self), "ustar")
            offset += 512 + (size + 511) / 512 * 512
        }
        XCTAssertEqual(names.count, 2 * 12)
        XCTAssertEqual(Array(names.prefix(4)), ["000000000.jpg", "000000000.cls", "000000001.jpg", "000000001.cls"])
        XCTAssertEqual(tar.count, offset + 1024, "two zero blocks end the archive")
    }

    func testADamagedIndexLineIsNamed() throws {
        try TarShardWriter.pack(try ImageFolder(root + "/images"), into: root + "/shards", shardBytes: 1 << 20)
        let index = root + "/shards/index.tsv"
        var lines = try String(contentsOfFile: index, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] += "\tan extra field"
        try (lines.joined(separator: "\n") + "\n").write(toFile: index, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TarShards(root + "/shards")) { error in
            XCTAssertEqual("\(error)", "\(index): line 4: expected key, shard file (*.tar beside the index), offset, bytes and a label below 3, tab-separated")
        }
    }

    func testATruncatedShardNamesTheShardAndTheMember() throws {
        try TarShardWriter.pack(try ImageFolder(root + "/images"), into: root + "/shards", shardBytes: 1 << 20)
        let shard = root + "/shards/shard-000000.tar"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: shard))
        try handle.truncate(atOffset: 2000)
        try handle.close()
        let shards = try TarShards(root + "/shards")
        XCTAssertNoThrow(try shards.bytes(0))
        XCTAssertThrowsError(try shards.bytes(5)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(shard): member 000000005: "), "\(error)")
        }
    }

    func testPackingIntoAFolderThatHoldsShardsIsRefused() throws {
        let folder = try ImageFolder(root + "/images")
        try TarShardWriter.pack(folder, into: root + "/shards", shardBytes: 1 << 20)
        XCTAssertThrowsError(try TarShardWriter.pack(folder, into: root + "/shards", shardBytes: 1 << 20)) { error in
            XCTAssertTrue("\(error)".contains("already holds shards"), "\(error)")
        }
    }
}
