import Foundation
import L2CComm
import L2CTensor

/// The k nearest neighbours of every sample of a set, by cosine similarity of the centred samples (pixels), or of
/// the samples themselves when not `centred` (features after a ReLU, all positive):
///   x̂ᵢ = (xᵢ − x̄) / ‖xᵢ − x̄‖ (or xᵢ / ‖xᵢ‖),   sim(i, j) = x̂ᵢ · x̂ⱼ,
/// found block by block (one GEMM of `blockRows` × N similarities at a time, never N×N).
///
/// Distributed: block b is computed by rank b mod R and the table is all-gathered, so every rank holds all of
/// it. The blocks and the GEMMs in them are the same on any rank count, hence so is the table.
public struct NeighbourTable: Sendable {
    public let count: Int
    public let k: Int
    /// count × k sample indices, nearest first (equal similarities: the lower index first).
    public let indices: [Int32]

    public static let blockRows = 256

    public init(count: Int, k: Int, indices: [Int32]) {
        precondition(indices.count == count * k, "a neighbour table of \(count) samples × \(k) needs \(count * k) indices")
        (self.count, self.k, self.indices) = (count, k, indices)
    }

    /// The table of `points` (count × dimension, row-major), k < count.
    public init(points: [Float], count: Int, dimension: Int, k: Int, centred: Bool = true, communicator comm: any Communicator) {
        precondition(k >= 1 && k < count && points.count == count * dimension, "need 1 ≤ k < \(count) and \(count)×\(dimension) values")
        let unit = Self.unitRows(points, count: count, dimension: dimension, centred: centred)
        let similarities = Tensor(shape: [Self.blockRows, count])
        let table = L2CComm.blockRows(count: count, width: k, blockRows: Self.blockRows, padding: Int64(-1), communicator: comm) { first, rows, out in
            unit.withUnsafeBufferPointer { x in
                gemm(x.baseAddress! + first * dimension, x.baseAddress!, transposeB: true, similarities.data,
                     m: rows, n: count, k: dimension)
            }
            for r in 0..<rows {
                let nearest = Self.nearest(similarities.data + r * count, count: count, excluding: first + r, k: k)
                for (c, j) in nearest.enumerated() { out[r * k + c] = Int64(j) }
            }
        }.map { Int32($0) }
        self.init(count: count, k: k, indices: table)
    }

    /// The k neighbours of sample i, nearest first.
    public func neighbours(of i: Int) -> ArraySlice<Int32> { indices[(i * k)..<((i + 1) * k)] }

    /// Whether j is among i's k neighbours.
    public func lists(_ j: Int, asNeighbourOf i: Int) -> Bool { neighbours(of: i).contains(Int32(j)) }

    /// The neighbours the clustering trusts: a class of N/K samples lends each sample the nearest 1/20 of it,
    ///   k = clamp(N / (20·K), 1, 10).
    /// How often such neighbours share their class is measured in the README ("Neighbour pairs").
    public static func trustedCount(samples: Int, clusters: Int) -> Int {
        min(10, max(1, samples / (20 * max(clusters, 1))))
    }

    /// x̂ = (x − x̄)/‖x − x̄‖ row by row, or x/‖x‖ when not `centred` (a zero row stays 0).
    public static func unitRows(_ points: [Float], count: Int, dimension: Int, centred: Bool = true) -> [Float] {
        var mean = [Double](repeating: 0, count: dimension)
        if centred { for i in 0..<count { for d in 0..<dimension { mean[d] += Double(points[i * dimension + d]) } } }
        let m = mean.map { Float($0 / Double(count)) }
        var unit = [Float](repeating: 0, count: points.count)
        for i in 0..<count {
            var norm: Float = 0
            for d in 0..<dimension {
                let v = points[i * dimension + d] - m[d]
                unit[i * dimension + d] = v
                norm += v * v
            }
            let scale: Float = norm > 0 ? 1 / norm.squareRoot() : 0
            for d in 0..<dimension { unit[i * dimension + d] *= scale }
        }
        return unit
    }

    /// The k columns of the highest similarity but `excluding`, highest first, ties to the lower index.
    static func nearest(_ similarity: UnsafePointer<Float>, count: Int, excluding: Int, k: Int) -> [Int] {
        var best: [(value: Float, index: Int)] = []
        best.reserveCapacity(k + 1)
        for j in 0..<count where j != excluding {
            let v = similarity[j]
            if best.count == k, v <= best[k - 1].value { continue }
            var at = best.count
            while at > 0, best[at - 1].value < v { at -= 1 }
            best.insert((v, j), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.index)
    }
}
