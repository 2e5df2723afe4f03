import Foundation
import L2CComm
import L2CTensor

/// Random geometric augmentation of in-memory training images (IDX, CSV, PNG image folders), chosen per sample
/// from (seed, step, global sample index): the same sample at the same step gets the same image on any rank
/// count, in any batch position, and a resumed run draws what the uninterrupted one drew.
///
/// - `affine`: rotation ±10°, scale 0.9–1.1, horizontal shear ±10°, shift ±10% of each side;
/// - `crop`: a whole-pixel shift of up to ±size/8 each way (a padded random crop);
/// - `flip`: a horizontal mirror with probability ½ (not for digits or letters);
/// - `jitter`: contrast × 0.6–1.4 and brightness ± 0.2 (of pixels scaled to 0–1), out = contrast · in + brightness.
///
/// The geometric ones are one inverse map per sample, resampled bilinearly; pixels from outside the image take
/// the nearest border pixel, so dark-on-light and light-on-dark images both keep their background.
public struct SampleAugmentation: Sendable, Equatable {
    public enum Transform: String, CaseIterable, Sendable { case affine, crop, flip, jitter }

    public let transforms: Set<Transform>

    public static let none = SampleAugmentation(transforms: [])

    public init(transforms: Set<Transform>) { self.transforms = transforms }

    /// "none", or a comma-separated list of transforms, e.g. "affine,flip".
    public init(parsing text: String) throws {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if names == ["none"] { self = .none; return }
        var transforms: Set<Transform> = []
        for name in names {
            guard let transform = Transform(rawValue: name) else {
                throw InputError("--augment", "expected none or a comma-separated list of affine, crop, flip, jitter; got '\(text)'")
            }
            transforms.insert(transform)
        }
        guard !transforms.isEmpty else { throw InputError("--augment", "expected none or a comma-separated list of affine, crop, flip, jitter; got '\(text)'") }
        self.transforms = transforms
    }

    /// The canonical text: "none" or the transforms in a fixed order.
    public var name: String {
        transforms.isEmpty ? "none" : Transform.allCases.filter(transforms.contains).map(\.rawValue).joined(separator: ",")
    }

    /// Where output pixel (x, y) reads from: source = matrix · (x − cx, y − cy) + (cx, cy) + offset.
    public struct Warp: Equatable {
        public var matrix: (Double, Double, Double, Double)
        public var offset: (x: Double, y: Double)

        public static let identity = Warp(matrix: (1, 0, 0, 1), offset: (0, 0))

        public static func == (a: Warp, b: Warp) -> Bool {
            a.matrix == b.matrix && a.offset == b.offset
        }
    }

    /// The draw of one sample at one step.
    public func warp(height: Int, width: Int, seed: UInt64, step: Int, sample: Int) -> Warp {
        guard !transforms.isEmpty else { return .identity }
        var rng = RandomGenerator(seed: mixKey(mixKey(seed, UInt64(step)), UInt64(sample)), stream: 0x4155_474D)
        func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * Double(rng.uniform()) }
        // Forward map out = A·(src − c) + c + t with A = rotation · shear · scale · mirror; inverted below.
        var (a, b, c, d) = (1.0, 0.0, 0.0, 1.0)
        var (tx, ty) = (0.0, 0.0)
        if transforms.contains(.affine) {
            let angle = uniform(-10, 10) * .pi / 180, shear = tan(uniform(-10, 10) * .pi / 180), scale = uniform(0.9, 1.1)
            let (cosA, sinA) = (cos(angle), sin(angle))
            // rotation [[cos, −sin], [sin, cos]] · shear [[1, k], [0, 1]] · scale s
            (a, b, c, d) = (scale * cosA, scale * (cosA * shear - sinA), scale * sinA, scale * (sinA * shear + cosA))
            (tx, ty) = (uniform(-0.1, 0.1) * Double(width), uniform(-0.1, 0.1) * Double(height))
        }
        if transforms.contains(.crop) {
            let pad = max(1, Int((Double(min(height, width)) / 8).rounded()))
            tx += Double(Int(rng.next() % UInt64(2 * pad + 1)) - pad)
            ty += Double(Int(rng.next() % UInt64(2 * pad + 1)) - pad)
        }
        if transforms.contains(.flip), rng.uniform() < 0.5 { (a, c) = (-a, -c) }
        // src − c = A⁻¹·(out − c − t)
        let determinant = a * d - b * c
        let inverse = (d / determinant, -b / determinant, -c / determinant, a / determinant)
        return Warp(matrix: inverse, offset: (-(inverse.0 * tx + inverse.1 * ty), -(inverse.2 * tx + inverse.3 * ty)))
    }

    /// The photometric draw of one sample at one step (identity without `jitter`), from its own random stream: the
    /// geometric draws do not depend on whether it is on.
    public func intensity(seed: UInt64, step: Int, sample: Int) -> (contrast: Float, brightness: Float) {
        guard transforms.contains(.jitter) else { return (1, 0) }
        var rng = RandomGenerator(seed: mixKey(mixKey(seed, UInt64(step)), UInt64(sample)), stream: 0x4A49_5454)
        let contrast = 0.6 + 0.8 * rng.uniform()
        return (contrast, -0.2 + 0.4 * rng.uniform())
    }

    /// `images` (N×C×H×W, row r holding global sample `samples[r]`) augmented for `step`: a new tensor, or
    /// `images` itself when there is nothing to do.
    public func apply(_ images: Tensor, samples: some Collection<Int>, step: Int, seed: UInt64) -> Tensor {
        guard !transforms.isEmpty else { return images }
        let (channels, height, width) = (images.shape[1], images.shape[2], images.shape[3])
        precondition(samples.count == images.shape[0], "one sample index per image row")
        let out = Tensor(shape: images.shape)
        let plane = height * width
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        for (row, sample) in samples.enumerated() {
            let w = warp(height: height, width: width, seed: seed, step: step, sample: sample)
            let (m0, m1, m2, m3) = w.matrix
            let (contrast, brightness) = intensity(seed: seed, step: step, sample: sample)
            for y in 0..<height {
                for x in 0..<width {
                    let (dx, dy) = (Double(x) - cx, Double(y) - cy)
                    let sx = min(max(m0 * dx + m1 * dy + cx + w.offset.x, 0), Double(width - 1))
                    let sy = min(max(m2 * dx + m3 * dy + cy + w.offset.y, 0), Double(height - 1))
                    let (x0, y0) = (Int(sx), Int(sy))
                    let (x1, y1) = (min(x0 + 1, width - 1), min(y0 + 1, height - 1))
                    let (fx, fy) = (Float(sx - Double(x0)), Float(sy - Double(y0)))
                    for channel in 0..<channels {
                        let source = images.data + (row * channels + channel) * plane
                        let top = source[y0 * width + x0] + (source[y0 * width + x1] - source[y0 * width + x0]) * fx
                        let bottom = source[y1 * width + x0] + (source[y1 * width + x1] - source[y1 * width + x0]) * fx
                        out.data[(row * channels + channel) * plane + y * width + x] = contrast * (top + (bottom - top) * fy) + brightness
                    }
                }
            }
        }
        return out
    }
}
