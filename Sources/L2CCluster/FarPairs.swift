import Foundation
import L2CTensor

/// Pair supervision that calls the pairs of a global batch that lie far apart in a feature space dissimilar:
///   S_ij = −1 when f̂_a · f̂_b < c_far (a, b the samples at batch positions i, j, f̂ their unit feature rows);
///   otherwise the base supervision's S_ij.
/// With K balanced classes only 1/K of all pairs share a class, and fewer of the farther half. What it lifts, laid
/// over the SPN's pairs on the contrastively warmed-up features, is in the README ("Contrastive warm-up and the
/// target's geometry").
public struct FarPairs: PairSimilarity {
    /// The unit feature rows of all samples and the cosine below which a pair counts as far.
    public struct Space: Sendable {
        /// count × dimension, row-major, each row of unit length (or zero).
        public let unitRows: [Float]
        public let dimension: Int
        public let farCosine: Float

        public init(unitRows: [Float], dimension: Int, farCosine: Float) {
            precondition(dimension > 0 && unitRows.count % dimension == 0, "\(unitRows.count) values are not rows of \(dimension)")
            (self.unitRows, self.dimension, self.farCosine) = (unitRows, dimension, farCosine)
        }

        /// Far means below the median cosine of all pairs, estimated on every sample against a strided sample of
        /// up to `sampledRows` others (the median of those sampled rows' pairs with all samples, self-pairs excluded).
        public init(medianOf unitRows: [Float], dimension: Int, sampledRows: Int = 512) {
            self.init(unitRows: unitRows, dimension: dimension,
                      farCosine: Self.cosineQuantile(unitRows, dimension: dimension, quantile: 0.5, sampledRows: sampledRows))
        }

        public var count: Int { unitRows.count / dimension }

        /// Whether samples a and b lie farther apart than `farCosine`.
        public func isFar(_ a: Int, _ b: Int) -> Bool {
            var dot: Float = 0
            for d in 0..<dimension { dot += unitRows[a * dimension + d] * unitRows[b * dimension + d] }
            return dot < farCosine
        }

        /// The `quantile` of the cosines between every `count / sampledRows`-th row and all rows, self-pairs excluded.
        public static func cosineQuantile(_ unitRows: [Float], dimension: Int, quantile: Double, sampledRows: Int) -> Float {
            let count = unitRows.count / dimension
            precondition(count >= 2, "a quantile of pair cosines needs 2 samples or more")
            let rows = min(count, sampledRows), stride = count / rows
            let picked = Tensor(shape: [rows, dimension])
            for r in 0..<rows { for d in 0..<dimension { picked[r * dimension + d] = unitRows[r * stride * dimension + d] } }
            let cosines = Tensor(shape: [rows, count])
            unitRows.withUnsafeBufferPointer { all in
                gemm(picked.data, all.baseAddress!, transposeB: true, cosines.data, m: rows, n: count, k: dimension)
            }
            var values: [Float] = []
            values.reserveCapacity(rows * count)
            for r in 0..<rows { for j in 0..<count where j != r * stride { values.append(cosines[r * count + j]) } }
            values.sort()
            return values[min(values.count - 1, Int(quantile * Double(values.count)))]
        }
    }

    public let base: any PairSimilarity
    /// The batch's global sample indices, in batch order.
    public let samples: [Int]
    public let space: Space

    public init(base: any PairSimilarity, samples: [Int], space: Space) {
        precondition(base.count == samples.count, "the base supervision covers \(base.count) samples, the batch \(samples.count)")
        (self.base, self.samples, self.space) = (base, samples, space)
    }

    public var count: Int { samples.count }

    public func fill(rows: Range<Int>, into out: UnsafeMutablePointer<Int8>) {
        base.fill(rows: rows, into: out)
        let (n, dimension) = (samples.count, space.dimension)
        space.unitRows.withUnsafeBufferPointer { f in
            for (r, i) in rows.enumerated() {
                let a = f.baseAddress! + samples[i] * dimension
                for j in 0..<n where j != i {
                    let b = f.baseAddress! + samples[j] * dimension
                    var dot: Float = 0
                    for d in 0..<dimension { dot += a[d] * b[d] }
                    if dot < space.farCosine { out[r * n + j] = -1 }
                }
            }
        }
    }
}
