import L2CData
import XCTest

/// `l2c adapt --image-size`: both domains at one size, by bilinear resampling over pixel centres.
final class DatasetResizeTests: XCTestCase {
    private func square(_ values: [Float], side: Int, channels: Int = 1) -> Dataset {
        Dataset(images: values, labels: [3], channels: channels, height: side, width: side, source: "test")
    }

    /// PyTorch's interpolate(mode="bilinear", align_corners=False) of [[0, 1], [2, 3]] to 4×4.
    func testUpsamplingMatchesBilinearOverPixelCentres() {
        let resized = square([0, 1, 2, 3], side: 2).resized(height: 4, width: 4)
        XCTAssertEqual([resized.height, resized.width, resized.channels], [4, 4, 1])
        let expected: [Float] = [0, 0.25, 0.75, 1,
                                 0.5, 0.75, 1.25, 1.5,
                                 1.5, 1.75, 2.25, 2.5,
                                 2, 2.25, 2.75, 3]
        for (a, b) in zip(resized.images, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(resized.labels, [3])
    }

    /// Halving averages each 2×2 block (the sampling point sits between its four pixels); channels stay apart.
    func testDownsamplingByTwoAveragesBlocksPerChannel() {
        let plane: [Float] = (0..<16).map(Float.init)
        let resized = square(plane + plane.map { -$0 }, side: 4, channels: 2).resized(height: 2, width: 2)
        XCTAssertEqual(resized.images, [2.5, 4.5, 10.5, 12.5, -2.5, -4.5, -10.5, -12.5])
    }

    func testTheSameSizeIsTheSameData() {
        let data = square([1, 2, 3, 4], side: 2)
        XCTAssertEqual(data.resized(height: 2, width: 2).images, data.images)
    }
}
