import Foundation
import L2CData
import L2CTensor
import XCTest

/// The JPEG/PNG image-folder pipeline: layouts, decoding, augmentation geometry, prefetching workers and
/// what happens to files that are not images.
final class ImagePipelineTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "l2c-images-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    /// A smooth colour gradient whose mean colour depends on the class.
    private func image(width: Int, height: Int, tint: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                pixels[(y * width + x) * 3 + 0] = UInt8((x * 255 / width + tint * 40) % 256)
                pixels[(y * width + x) * 3 + 1] = UInt8(y * 255 / height)
                pixels[(y * width + x) * 3 + 2] = UInt8(tint * 60 % 256)
            }
        }
        return RGBImage(pixels: pixels, width: width, height: height)
    }

    /// root/<class>/*.JPEG, `perClass` images of varied sizes.
    private func makeFolder(_ folder: String, classes: Int, perClass: Int) throws {
        for c in 0..<classes {
            let dir = "\(folder)/class\(c)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<perClass {
                try JPEGWriter.write("\(dir)/img\(i).JPEG", image(width: 120 + 17 * i, height: 90 + 11 * c, tint: c))
            }
        }
    }

    func testImageNetAndOffice31Layouts() throws {
        try makeFolder("\(root)/imagenet/train", classes: 3, perClass: 2)
        let imagenet = try ImageFolder("\(root)/imagenet/train")
        XCTAssertEqual(imagenet.classNames, ["class0", "class1", "class2"])
        XCTAssertEqual(imagenet.labels, [0, 0, 1, 1, 2, 2])
        try makeFolder("\(root)/amazon/images", classes: 2, perClass: 1)
        let office = try ImageFolder("\(root)/amazon")
        XCTAssertEqual(office.classNames, ["class0", "class1"])
        XCTAssertEqual(office.count, 2)
        XCTAssertThrowsError(try ImageFolder("\(root)/missing")) { XCTAssertTrue("\($0)".contains("\(root)/missing")) }
    }

    func testJPEGRoundTripAndDCTDownscaling() throws {
        let original = image(width: 64, height: 48, tint: 1)
        try JPEGWriter.write("\(root)/a.jpg", original, quality: 95)
        let bytes = [UInt8](FileManager.default.contents(atPath: "\(root)/a.jpg")!)
        let decoder = ImageDecoder()
        let full = try decoder.decode(bytes, path: "a.jpg")
        XCTAssertEqual([full.width, full.height], [64, 48])
        var total = 0
        for i in 0..<full.pixels.count { total += abs(Int(full.pixels[i]) - Int(original.pixels[i])) }
        XCTAssertLessThan(Double(total) / Double(full.pixels.count), 4, "JPEG at quality 95 stays close to the original")
        let quarter = try decoder.decode(bytes, path: "a.jpg", minimumScale: 0.3)
        XCTAssertEqual([quarter.width, quarter.height], [32, 24], "1/2 is the smallest scale ≥ 0.3")
        let eighth = try decoder.decode(bytes, path: "a.jpg", minimumScale: 0.1)
        XCTAssertEqual([eighth.width, eighth.height], [8, 6])
    }

    func testEvaluationCropIsCentredAndTrainingCropsStayInside() {
        let evaluation = ImageAugmentation(size: 224, mode: .evaluate)
        let centre = evaluation.crop(width: 400, height: 300, seed: 1, epoch: 0, sample: 0)
        XCTAssertEqual(centre, .init(x: 68.75, y: 18.75, width: 262.5, height: 262.5, flip: false), "shorter side to 256, centre 224")
        let train = ImageAugmentation(size: 224, mode: .train)
        var flips = 0
        for sample in 0..<200 {
            let c = train.crop(width: 400, height: 300, seed: 1, epoch: 0, sample: sample)
            XCTAssertTrue(c.x >= 0 && c.y >= 0 && c.x + c.width <= 400 && c.y + c.height <= 300, "\(c)")
            let area = c.width * c.height / (400 * 300)
            XCTAssertTrue(area >= 0.07 && area <= 1, "area fraction \(area)")
            flips += c.flip ? 1 : 0
            XCTAssertEqual(c, train.crop(width: 400, height: 300, seed: 1, epoch: 0, sample: sample), "keyed, not stateful")
        }
        XCTAssertTrue((70...130).contains(flips), "about half mirrored: \(flips)")
    }

    private func batches(_ folder: ImageFolder, workers: Int, count: Int, rank: Int = 0, ranks: Int = 1,
                         policy: BadImagePolicy = .fail) throws -> [(images: [Float], labels: [Int])] {
        let sampler = try DistributedSampler(sampleCount: folder.count, globalBatch: 4, rank: rank, ranks: ranks, seed: 3)
        let loader = ImageBatchLoader(folder: folder, sampler: sampler, augmentation: ImageAugmentation(size: 32, mode: .train),
                                      workers: workers, badImages: policy, seed: 5)
        return try (0..<count).map { _ in let b = try loader.next(); return (b.images.array, b.labels) }
    }

    func testBatchesDoNotDependOnWorkerCountAndRanksSplitTheGlobalBatch() throws {
        try makeFolder(root + "/train", classes: 3, perClass: 3)
        let folder = try ImageFolder(root + "/train")
        let one = try batches(folder, workers: 1, count: 5)   // 9 images, 2 batches an epoch: crosses epochs
        let three = try batches(folder, workers: 3, count: 5)
        for (a, b) in zip(one, three) {
            XCTAssertEqual(a.labels, b.labels)
            XCTAssertEqual(a.images, b.images)
        }
        let rank0 = try batches(folder, workers: 2, count: 3, rank: 0, ranks: 2)
        let rank1 = try batches(folder, workers: 2, count: 3, rank: 1, ranks: 2)
        let plane = 3 * 32 * 32
        for t in 0..<3 {
            XCTAssertEqual(rank0[t].labels + rank1[t].labels, one[t].labels)
            XCTAssertEqual(rank0[t].images + rank1[t].images, one[t].images)
            XCTAssertEqual(rank0[t].images.count, 2 * plane)
        }
    }

    func testCorruptFileFailsWithItsPathOrIsSkippedAndCounted() throws {
        try makeFolder(root + "/train", classes: 2, perClass: 4)
        let bad = root + "/train/class1/img2.JPEG"
        try Data("this is not a JPEG".utf8).write(to: URL(fileURLWithPath: bad))
        let folder = try ImageFolder(root + "/train")
        XCTAssertThrowsError(try batches(folder, workers: 2, count: 4)) { error in
            XCTAssertTrue("\(error)".contains(bad), "\(error)")
            XCTAssertTrue("\(error)".contains("not a JPEG or PNG"), "\(error)")
        }
        let sampler = try DistributedSampler(sampleCount: folder.count, globalBatch: 4, rank: 0, ranks: 1, seed: 3)
        let loader = ImageBatchLoader(folder: folder, sampler: sampler, augmentation: ImageAugmentation(size: 32, mode: .train),
                                      workers: 2, badImages: .skip, seed: 5)
        for _ in 0..<4 { _ = try loader.next() }   // two epochs: every file is met
        XCTAssertEqual(loader.skippedImages, 1)
    }
}
