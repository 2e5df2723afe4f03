import Foundation
import L2CData
import L2CTensor
import XCTest

/// Readers accept the standard formats and reject broken files with a message naming file and field.
final class DataFormatTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "l2c-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = folder + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    private func writeMNIST(count: Int, prefix: String = "train", gzip: Bool = false) throws {
        let images = IDXReader.encode(dimensions: [count, 28, 28], bytes: (0..<(count * 784)).map { UInt8($0 % 256) })
        let labels = IDXReader.encode(dimensions: [count], bytes: (0..<count).map { UInt8($0 % 10) })
        let imagesPath = write("\(prefix)-images-idx3-ubyte", images)
        _ = write("\(prefix)-labels-idx1-ubyte", labels)
        if gzip {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-f", imagesPath]
            try p.run(); p.waitUntilExit()
        }
    }

    func testReadsRawAndGzippedIDX() throws {
        try writeMNIST(count: 12, gzip: true)
        let data = try DataSource.open(folder).load(.train)
        XCTAssertEqual(data.count, 12)
        XCTAssertEqual([data.channels, data.height, data.width], [1, 28, 28])
        XCTAssertEqual(data.labels[11], 1)
        XCTAssertEqual(data.images[255], 1, accuracy: 1e-6)
    }

    func testTruncatedIDXNamesTheFileAndTheSizes() throws {
        try writeMNIST(count: 4)
        let path = folder + "/train-images-idx3-ubyte"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try DataSource.open(folder).load(.train)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("truncated") && text.contains("3136"), text)
        }
    }

    func testMissingFileIsNamed() throws {
        XCTAssertThrowsError(try DataSource.open(folder).load(.test)) { error in
            XCTAssertTrue("\(error)".contains("t10k-images-idx3-ubyte"), "\(error)")
        }
        XCTAssertThrowsError(try DataSource.open(folder + "/nowhere").load(.train)) { error in
            XCTAssertTrue("\(error)".contains("nowhere") && "\(error)".contains("no such file"), "\(error)")
        }
    }

    func testLabelCountMustMatchImages() throws {
        _ = write("train-images-idx3-ubyte", IDXReader.encode(dimensions: [3, 28, 28], bytes: [UInt8](repeating: 0, count: 3 * 784)))
        _ = write("train-labels-idx1-ubyte", IDXReader.encode(dimensions: [2], bytes: [1, 2]))
        XCTAssertThrowsError(try DataSource.open(folder).load(.train)) { error in
            XCTAssertTrue("\(error)".contains("label count: expected 3"), "\(error)")
        }
    }

    func testCSVReadsRowsWithTheLabelLast() throws {
        let path = write("d.csv", Array("0,255,0,0,7\n255,0,0,0,3\n".utf8))
        let data = try CSVReader.dataset(path)
        XCTAssertEqual([data.height, data.width], [2, 2], "side inferred from the 4 pixel values")
        XCTAssertEqual(data.labels, [7, 3])
        XCTAssertEqual(data.images[1], 1)
    }

    func testCSVRowWithWrongColumnCountNamesTheLine() throws {
        let path = write("bad.csv", Array("0,0,0,0,1\n0,0,0,2\n".utf8))
        XCTAssertThrowsError(try CSVReader.dataset(path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("bad.csv") && text.contains("line 2") && text.contains("expected 5") && text.contains("found 4"), text)
        }
    }

    func testCSVLabelColumnCanComeFirst() throws {
        let path = write("first.csv", Array("4,0,0,0,255\n".utf8))
        let data = try CSVReader.dataset(path, labelColumn: 0)
        XCTAssertEqual(data.labels, [4])
        XCTAssertEqual(data.images, [0, 0, 0, 1])
    }

    func testCSVWithNonSquareRowsIsRejected() throws {
        let path = write("odd.csv", Array("1,2,3,4,5,6\n".utf8))
        XCTAssertThrowsError(try CSVReader.dataset(path)) { error in
            XCTAssertTrue("\(error)".contains("5 values is not a square number"), "\(error)")
        }
    }

    func testSamplerShardsDoNotDependOnTheRankCount() throws {
        let one = try DistributedSampler(sampleCount: 50, globalBatch: 12, rank: 0, ranks: 1, seed: 5)
        let order = one.order(epoch: 2)
        var pieces: [Int] = []
        for rank in 0..<3 {
            let s = try DistributedSampler(sampleCount: 50, globalBatch: 12, rank: rank, ranks: 3, seed: 5)
            XCTAssertEqual(s.order(epoch: 2), order)
            pieces += s.shard(s.order(epoch: 2), batch: 1)
        }
        XCTAssertEqual(pieces, Array(one.shard(order, batch: 1)))
        XCTAssertNotEqual(one.order(epoch: 3), order, "reshuffled every epoch")
        XCTAssertEqual(one.batchesPerEpoch, 4)
    }

    func testIndivisibleBatchIsRejected() {
        XCTAssertThrowsError(try DistributedSampler(sampleCount: 50, globalBatch: 10, rank: 0, ranks: 3, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("not divisible by the 3 ranks"), "\(error)")
        }
    }

    func testCheckpointRoundTripsAndRejectsShapeMismatch() throws {
        let path = folder + "/model.safetensors"
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        try Checkpoint.save(path, tensors: [("layer.weight", a)], metadata: ["model": "mlp"])
        let contents = try Checkpoint.load(path)
        XCTAssertEqual(contents.metadata["model"], "mlp")
        XCTAssertEqual(contents.tensors["layer.weight"]?.values, [1, 2, 3, 4, 5, 6])
        let wrong = Tensor(shape: [3, 2])
        XCTAssertThrowsError(try Checkpoint.restore(contents, into: [("layer.weight", wrong)], path: path)) { error in
            XCTAssertTrue("\(error)".contains("shape [2, 3], the model expects [3, 2]"), "\(error)")
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: folder).contains { $0.contains(".tmp") }, "no temporary file left")
    }

    /// One call opens every format, recognised from what the path holds.
    func testEveryFormatIsRecognisedFromItsPath() throws {
        let fm = FileManager.default
        try writeMNIST(count: 2)
        XCTAssertEqual(try DataSource.open(folder).format, .idx)
        XCTAssertEqual(try DataSource.open(write("d.csv", Array("0,255,0,0,7\n".utf8))).format, .csv)
        let images = folder + "/images-root"
        try fm.createDirectory(atPath: images + "/cat", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: images + "/cat/a.jpg", contents: Data([0xFF]))
        XCTAssertEqual(try DataSource.open(images).format, .imageFolder)
        let office = folder + "/amazon"
        try fm.createDirectory(atPath: office + "/images/cup", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: office + "/images/cup/b.png", contents: Data([0x89]))
        XCTAssertEqual(try DataSource.open(office).format, .imageFolder)
        let tree = folder + "/tree"
        try fm.createDirectory(atPath: tree + "/Latin/a", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: tree + "/Latin/a/0.png", contents: Data([0x89]))
        XCTAssertEqual(try DataSource.open(tree).format, .alphabets)
        let cifar = folder + "/cifar"
        try fm.createDirectory(atPath: cifar, withIntermediateDirectories: true)
        _ = fm.createFile(atPath: cifar + "/train.bin", contents: Data())
        XCTAssertEqual(try DataSource.open(cifar).format, .cifar100)
        XCTAssertThrowsError(try DataSource.open(folder + "/nowhere")) { error in
            XCTAssertTrue("\(error)".hasPrefix(folder + "/nowhere: no such file or folder (expected a folder of MNIST IDX files"), "\(error)")
        }
    }

    /// Asking a format for what it does not hold names the path and what it is.
    func testAlphabetsOfAnIDXFolderAreRefusedByFormat() throws {
        try writeMNIST(count: 2)
        XCTAssertThrowsError(try DataSource.open(folder).alphabetNames()) { error in
            XCTAssertEqual("\(error)", "\(folder!): expected an alphabet tree (<alphabet>/<character>/*.png), found idx data")
        }
    }
}
