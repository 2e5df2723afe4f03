import Foundation
import L2CComm
import L2CTensor

/// How an image becomes a size×size network input: a crop box, an optional mirror, bilinear resampling and
/// per-channel normalisation (x − mean)/std, written as planar RGB floats.
///
/// Training: random-resized-crop (area 8–100% of the image, aspect 3/4–4/3, as torchvision) and a
/// horizontal flip with probability ½. Evaluation: resize the shorter side to size/0.875 and take the
/// centre size×size crop. Random choices come from (seed, epoch, sample index), so they do not depend on
/// which worker thread or rank decodes the image.
public struct ImageAugmentation: Sendable {
    public enum Mode: String, Sendable { case train, evaluate }

    public let size: Int
    public let mode: Mode
    public var mean: [Float] = [0.485, 0.456, 0.406].map { $0 * 255 }
    public var std: [Float] = [0.229, 0.224, 0.225].map { $0 * 255 }

    public init(size: Int, mode: Mode) {
        self.size = size
        self.mode = mode
    }

    /// The crop box in the image's own pixels, and whether to mirror it.
    public struct Crop: Equatable {
        public var x: Double, y: Double, width: Double, height: Double
        public var flip: Bool

        public init(x: Double, y: Double, width: Double, height: Double, flip: Bool) {
            (self.x, self.y, self.width, self.height, self.flip) = (x, y, width, height, flip)
        }
    }

    public func crop(width: Int, height: Int, seed: UInt64, epoch: Int, sample: Int) -> Crop {
        let (W, H) = (Double(width), Double(height))
        guard mode == .train else {
            let side = 0.875 * min(W, H)
            return Crop(x: (W - side) / 2, y: (H - side) / 2, width: side, height: side, flip: false)
        }
        var rng = RandomGenerator(seed: mixKey(mixKey(seed, UInt64(epoch)), UInt64(sample)), stream: 0x4352_4F50)
        let area = W * H
        for _ in 0..<10 {
            let target = area * (0.08 + 0.92 * Double(rng.uniform()))
            let ratio = exp(log(3.0 / 4) + (log(4.0 / 3) - log(3.0 / 4)) * Double(rng.uniform()))
            let w = (target * ratio).squareRoot().rounded(), h = (target / ratio).squareRoot().rounded()
            if w > 0 && h > 0 && w <= W && h <= H {
                let x = (W - w) * Double(rng.uniform()), y = (H - h) * Double(rng.uniform())
                return Crop(x: x.rounded(.down), y: y.rounded(.down), width: w, height: h, flip: rng.uniform() < 0.5)
            }
        }
        let side = min(W, H)
        return Crop(x: (W - side) / 2, y: (H - side) / 2, width: side, height: side, flip: rng.uniform() < 0.5)
    }

    /// Resamples `crop` (in original coordinates; `image` may be a DCT-downscaled decode of an
    /// originalWidth-wide image) into `output`: 3 planes of size×size.
    public func render(_ image: RGBImage, originalWidth: Int, crop: Crop, into output: UnsafeMutablePointer<Float>) {
        let scale = Double(image.width) / Double(originalWidth)
        let (x0, y0) = (crop.x * scale, crop.y * scale)
        let (stepX, stepY) = (crop.width * scale / Double(size), crop.height * scale / Double(size))
        let plane = size * size
        let inverseStd = std.map { 1 / $0 }
        image.pixels.withUnsafeBufferPointer { px in
            for oy in 0..<size {
                let sy = min(max(y0 + (Double(oy) + 0.5) * stepY - 0.5, 0), Double(image.height - 1))
                let iy = Int(sy), fy = Float(sy - Double(iy)), iy1 = min(iy + 1, image.height - 1)
                for ox in 0..<size {
                    let sx = min(max(x0 + (Double(ox) + 0.5) * stepX - 0.5, 0), Double(image.width - 1))
                    let ix = Int(sx), fx = Float(sx - Double(ix)), ix1 = min(ix + 1, image.width - 1)
                    let outX = crop.flip ? size - 1 - ox : ox
                    for c in 0..<3 {
                        let p00 = Float(px[(iy * image.width + ix) * 3 + c]), p01 = Float(px[(iy * image.width + ix1) * 3 + c])
                        let p10 = Float(px[(iy1 * image.width + ix) * 3 + c]), p11 = Float(px[(iy1 * image.width + ix1) * 3 + c])
                        let top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx
                        output[c * plane + oy * size + outX] = (top + (bottom - top) * fy - mean[c]) * inverseStd[c]
                    }
                }
            }
        }
    }

    /// Reads, decodes and renders sample `sample` of `samples` into `output`.
    public func load(_ samples: any ImageSamples, sample: Int, decoder: ImageDecoder, seed: UInt64, epoch: Int,
                     into output: UnsafeMutablePointer<Float>) throws {
        let bytes = try samples.bytes(sample)
        let path = samples.name(sample)
        let (width, height) = try decoder.size(bytes, path: path)
        guard width > 0 && height > 0 else { throw InputError(path, "image has no pixels (\(width)×\(height))") }
        let box = crop(width: width, height: height, seed: seed, epoch: epoch, sample: sample)
        // Decode at the smallest DCT scale that still gives the crop at least size pixels a side.
        let image = try decoder.decode(bytes, path: path, size: (width, height), minimumScale: Double(size) / min(box.width, box.height))
        render(image, originalWidth: width, crop: box, into: output)
    }
}
