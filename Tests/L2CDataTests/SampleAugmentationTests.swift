import L2CData
import L2CTensor
import XCTest

/// Random affine, crop, flip and intensity jitter of in-memory training images, drawn per (seed, step, sample).
final class SampleAugmentationTests: XCTestCase {
    /// Four 1×12×10 images with distinct, non-symmetric content: image i holds 100·i + 10·y + x at (y, x).
    private func images(_ samples: Int = 4, height: Int = 12, width: Int = 10) -> Tensor {
        Tensor(shape: [samples, 1, height, width], values: (0..<samples * height * width).map { i in
            let (image, pixel) = (i / (height * width), i % (height * width))
            return Float(100 * image + 10 * (pixel / width) + pixel % width)
        })
    }

    private func row(_ t: Tensor, _ r: Int) -> [Float] {
        let size = t.count / t.shape[0]
        return Array(UnsafeBufferPointer(start: t.data + r * size, count: size))
    }

    func testParsesNoneAndListsInACanonicalOrder() throws {
        XCTAssertEqual(try SampleAugmentation(parsing: "none"), .none)
        XCTAssertEqual(try SampleAugmentation(parsing: "flip, affine").name, "affine,flip")
        XCTAssertEqual(try SampleAugmentation(parsing: "crop").transforms, [.crop])
        XCTAssertThrowsError(try SampleAugmentation(parsing: "rotate")) { error in
            XCTAssertTrue("\(error)".hasPrefix("--augment: expected none or a comma-separated list of affine, crop, flip"), "\(error)")
        }
    }

    func testNoneLeavesTheBatchAlone() {
        let batch = images()
        XCTAssertTrue(SampleAugmentation.none.apply(batch, samples: [0, 1, 2, 3], step: 5, seed: 1) === batch)
    }

    /// The draw follows the sample, not its row: the same sample at the same step looks the same in any batch
    /// (so on any rank count), and differently at another step or seed.
    func testASampleIsAugmentedTheSameWhereverItSitsInTheBatch() throws {
        let augmentation = try SampleAugmentation(parsing: "affine,crop,flip")
        let batch = images()
        let forward = augmentation.apply(batch, samples: [10, 11, 12, 13], step: 7, seed: 3)
        let reversedBatch = Tensor(shape: batch.shape, values: (0..<4).reversed().flatMap { row(batch, $0) })
        let reversed = augmentation.apply(reversedBatch, samples: [13, 12, 11, 10], step: 7, seed: 3)
        for r in 0..<4 { XCTAssertEqual(row(forward, r), row(reversed, 3 - r)) }
        XCTAssertNotEqual(row(forward, 0), row(augmentation.apply(batch, samples: [10, 11, 12, 13], step: 8, seed: 3), 0))
        XCTAssertNotEqual(row(forward, 0), row(augmentation.apply(batch, samples: [10, 11, 12, 13], step: 7, seed: 4), 0))
    }

    func testFlipMirrorsOrKeepsEachImageExactly() throws {
        let flip = try SampleAugmentation(parsing: "flip")
        let batch = images(64)
        let out = flip.apply(batch, samples: Array(0..<64), step: 0, seed: 1)
        var mirrored = 0
        for r in 0..<64 {
            let (original, result) = (row(batch, r), row(out, r))
            let mirror = (0..<12).flatMap { y in (0..<10).reversed().map { x in original[y * 10 + x] } }
            XCTAssertTrue(result == original || result == mirror, "row \(r) is neither the image nor its mirror")
            if result == mirror { mirrored += 1 }
        }
        XCTAssertTrue((20...44).contains(mirrored), "\(mirrored) of 64 mirrored: expected about half")
    }

    /// A crop is a whole-pixel shift of at most size/8 each way (2 pixels on 16×16): every output pixel is the input
    /// pixel at the shifted position, clamped to the border.
    func testCropShiftsByWholePixelsWithinAnEighthOfTheSide() throws {
        let crop = try SampleAugmentation(parsing: "crop")
        let batch = images(32, height: 16, width: 16)
        let out = crop.apply(batch, samples: Array(0..<32), step: 2, seed: 9)
        func isShift(_ result: [Float], of original: [Float], dx: Int, dy: Int) -> Bool {
            for y in 0..<16 {
                for x in 0..<16 where result[y * 16 + x] != original[min(max(y - dy, 0), 15) * 16 + min(max(x - dx, 0), 15)] {
                    return false
                }
            }
            return true
        }
        var shifts = Set<[Int]>()
        for r in 0..<32 {
            let (original, result) = (row(batch, r), row(out, r))
            let candidates: [[Int]] = (-2...2).flatMap { dy in (-2...2).map { dx in [dx, dy] } }
            let shift = try XCTUnwrap(candidates.first { isShift(result, of: original, dx: $0[0], dy: $0[1]) },
                                      "row \(r) is not a shift of at most 2 pixels")
            shifts.insert(shift)
        }
        XCTAssertGreaterThan(shifts.count, 5, "shifts drawn: \(shifts)")
    }

    /// Bilinear resampling with border clamping mixes neighbouring pixels: every value stays within the image's range,
    /// and the warp is a mild one (rotation ±10°, scale 0.9–1.1, shear ±10°: the linear part stays near the identity).
    func testAffineStaysMildAndWithinTheImagesRange() throws {
        let affine = try SampleAugmentation(parsing: "affine")
        let batch = images(16)
        let out = affine.apply(batch, samples: Array(0..<16), step: 1, seed: 2)
        for r in 0..<16 {
            let (original, result) = (row(batch, r), row(out, r))
            XCTAssertGreaterThanOrEqual(result.min()!, original.min()!)
            XCTAssertLessThanOrEqual(result.max()!, original.max()!)
            XCTAssertNotEqual(result, original)
            let warp = affine.warp(height: 12, width: 10, seed: 2, step: 1, sample: r)
            let (a, b, c, d) = warp.matrix
            XCTAssertEqual(a * d - b * c, 1, accuracy: 0.25)
            XCTAssertLessThanOrEqual(max(abs(b), abs(c)), 0.45)
            XCTAssertLessThanOrEqual(max(abs(warp.offset.x), abs(warp.offset.y)), 2)
        }
    }

    /// Jitter changes contrast and brightness, out = c·in + b with c in 0.6–1.4 and b in ±0.2, and moves no pixel:
    /// with a warp on, the jittered image is the warped one, scaled and shifted.
    func testJitterScalesAndShiftsIntensitiesOnTopOfTheSameWarp() throws {
        let batch = images(16)
        let warped = try SampleAugmentation(parsing: "affine").apply(batch, samples: Array(0..<16), step: 4, seed: 5)
        let jittered = try SampleAugmentation(parsing: "affine,jitter").apply(batch, samples: Array(0..<16), step: 4, seed: 5)
        var contrasts: [Float] = []
        for r in 0..<16 {
            let (before, after) = (row(warped, r), row(jittered, r))
            let (low, high) = (before.indices.min { before[$0] < before[$1] }!, before.indices.max { before[$0] < before[$1] }!)
            let c = (after[high] - after[low]) / (before[high] - before[low]), b = after[low] - c * before[low]
            XCTAssertTrue((0.6...1.4).contains(c) && (-0.2...0.2).contains(b), "row \(r): contrast \(c), brightness \(b)")
            for i in before.indices { XCTAssertEqual(after[i], c * before[i] + b, accuracy: 1e-3 * max(1, abs(after[i])), "row \(r) pixel \(i)") }
            contrasts.append(c)
        }
        XCTAssertGreaterThan(contrasts.max()! - contrasts.min()!, 0.2, "contrasts drawn: \(contrasts)")
    }
}
