import Foundation
import L2CComm
import L2CTensor

/// The value of the contrastive loss over the global batch and its gradient for this rank's rows.
public struct ContrastiveLossResult {
    /// Mean over the 2N views of the global batch (identical on every rank).
    public let loss: Double
    /// dL/d(embeddings) of this rank's rows, [2b, d].
    public let gradEmbeddings: Tensor
}

/// NT-Xent (SimCLR's normalised-temperature cross-entropy): each view of a sample must pick the sample's other
/// view out of all 2N views of the global batch. Labels are never used.
///
/// Rows: each rank holds [view 0 of its b samples; view 1 of the same b samples], 2b × d, and rank r's rows are
/// rows 2br ..< 2b(r+1) of the global batch, so row i's other view p(i) is i ± b inside its rank's block. With
/// z_i = h_i / ‖h_i‖ and s_ij = z_i·z_j / τ,
///   ℓ_i = log Σ_{j≠i} exp(s_ij) − s_{i,p(i)},   L = (1/2N) Σ_i ℓ_i.
/// With P_ij the softmax of row i over j ≠ i and G = (P − E) / 2N (E the positives' indicator),
///   dL/dz = (G + Gᵀ)·Z / τ,   dL/dh_i = (dz_i − z_i (z_i·dz_i)) / ‖h_i‖.
/// Distributed as the pairwise losses are: all-gather Z; this rank's rows of G·Z locally; the column term
/// G_localᵀ·Z_local for every row, reduce-scattered to the rows' owners. Work is 2b × 2N per rank: the
/// similarity matrix of this rank's rows, never more.
public struct ContrastiveLoss {
    public let temperature: Float

    /// τ = 0.5, SimCLR's choice for small batches; measured on Fashion-MNIST in the README ("Contrastive warm-up").
    public init(temperature: Float = 0.5) { self.temperature = temperature }

    public func evaluate(localEmbeddings h: Tensor, communicator comm: any Communicator) -> ContrastiveLossResult {
        let (rows, d) = (h.rows, h.columns)
        precondition(rows % 2 == 0, "contrastive rows hold two views of each sample: got \(rows) rows")
        let half = rows / 2, total = rows * comm.size, firstRow = rows * comm.rank
        // z = h / ‖h‖ for this rank's rows, then all of them.
        let z = Tensor(shape: [rows, d])
        var norms = [Float](repeating: 0, count: rows)
        for i in 0..<rows {
            var sum: Float = 0
            for c in 0..<d { sum += h[i * d + c] * h[i * d + c] }
            norms[i] = max(sqrtf(sum), 1e-12)
            for c in 0..<d { z[i * d + c] = h[i * d + c] / norms[i] }
        }
        let all = Tensor(shape: [total, d])
        comm.allGather(z.data, count: z.count, into: all.data)
        // S = Z_local·Z_allᵀ / τ, rows × 2N; becomes G in place.
        let g = Tensor(shape: [rows, total])
        gemm(z.data, all.data, transposeB: true, g.data, m: rows, n: total, k: d, alpha: 1 / temperature)
        var lossSum = 0.0
        let scale = 1 / Float(total)
        for i in 0..<rows {
            let row = g.data + i * total
            let own = firstRow + i, positive = firstRow + (i < half ? i + half : i - half)
            let positiveScore = row[positive]
            var top = -Float.infinity
            for j in 0..<total where j != own { top = max(top, row[j]) }
            var sum: Float = 0
            for j in 0..<total where j != own {
                row[j] = expf(row[j] - top)
                sum += row[j]
            }
            lossSum += Double(top + logf(sum)) - Double(positiveScore)
            for j in 0..<total { row[j] = j == own ? 0 : scale * row[j] / sum }
            row[positive] -= scale
        }
        // dz = G·Z_all / τ (this rank's rows) + [Gᵀ·Z_local / τ summed over ranks] (this rank's share).
        let columnTerm = Tensor(shape: [total, d])
        gemm(g.data, transposeA: true, z.data, columnTerm.data, m: total, n: d, k: rows, alpha: 1 / temperature)
        let dz = Tensor(shape: [rows, d])
        comm.reduceScatterSum(columnTerm.data, into: dz.data, countPerRank: dz.count)
        gemm(g.data, all.data, dz.data, m: rows, n: d, k: total, alpha: 1 / temperature, beta: 1)
        let grad = Tensor(shape: [rows, d])
        for i in 0..<rows {
            var dot: Float = 0
            for c in 0..<d { dot += z[i * d + c] * dz[i * d + c] }
            for c in 0..<d { grad[i * d + c] = (dz[i * d + c] - z[i * d + c] * dot) / norms[i] }
        }
        var totals = [lossSum]
        totals.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 1) }
        return ContrastiveLossResult(loss: totals[0] / Double(total), gradEmbeddings: grad)
    }
}
