import Foundation
import L2CComm
import L2CTensor

/// KL-divergence-based contrastive loss (Hsu & Kira, L2C's KCL).
///
/// For pair (i, j): q = p_i (the target, detached), r = p_j (the prediction),
///   kld_ij = Σ_k (q_k + ε)(ln(q_k + ε) − ln(r_k + ε)) = h_i − [(P+ε)·ln(P+ε)ᵀ]_ij,  h_i = Σ_k (q_k+ε)ln(q_k+ε)
///   ℓ = kld if S = +1;  max(0, m − kld) if S = −1;  unknown pairs (S = 0) are excluded.
/// Gradient, only to the prediction side:
///   dL/dr_jk = −(1/known) Σ_i a_ij (q_ik + ε)/(r_jk + ε),  a_ij = +1 (similar), −[kld < m] (dissimilar),
/// i.e. G = Aᵀ·(P+ε) followed by an elementwise scale. Margin 2, ε = 1e-7 as in the reference.
public struct KCL: PairwiseLoss {
    public let margin: Float
    public let epsilon: Float
    public let blockRows: Int

    public init(margin: Float = 2, epsilon: Float = 1e-7, blockRows: Int = 512) {
        self.margin = margin
        self.epsilon = epsilon
        self.blockRows = blockRows
    }

    public func evaluate(localProbs: Tensor, similarity: any PairSimilarity, communicator: any Communicator) -> PairwiseLossResult {
        let batch = PairBatch(localProbs: localProbs, similarity: similarity, communicator: communicator)
        let (n, k) = (batch.total, batch.classes)
        // ln(P + ε) over all samples (the prediction side), (P + ε) over local rows (the target side).
        let logAll = Tensor(shape: [n, k])
        for idx in 0..<logAll.count { logAll[idx] = logf(batch.all[idx] + epsilon) }
        let target = Tensor(shape: [batch.localRows, k])
        var entropyTerm = [Float](repeating: 0, count: batch.localRows)
        for i in 0..<batch.localRows {
            var h: Float = 0
            for c in 0..<k {
                let q = localProbs[i * k + c] + epsilon
                target[i * k + c] = q
                h += q * logf(q)
            }
            entropyTerm[i] = h
        }
        let gradAll = Tensor(shape: [n, k])
        let cross = Tensor(shape: [min(blockRows, batch.localRows), n])   // becomes A in place
        var simi = [Int8](repeating: 0, count: cross.count)
        var lossSum: Double = 0
        var known = 0
        for block in batch.blocks(of: blockRows) {
            let rows = block.count
            // cross = (P+ε)_block · ln(P+ε)ᵀ, rows × N
            gemm(target.data + block.lowerBound * k, logAll.data, transposeB: true, cross.data, m: rows, n: n, k: k)
            simi.withUnsafeMutableBufferPointer { s in
                similarity.fill(rows: (batch.firstRow + block.lowerBound)..<(batch.firstRow + block.upperBound), into: s.baseAddress!)
                for r in 0..<rows {
                    let (rowLoss, rowKnown) = PairKernels.kcl(cross.data + r * n, s.baseAddress! + r * n, count: n,
                                                              entropy: entropyTerm[block.lowerBound + r], margin: margin)
                    lossSum += rowLoss
                    known += rowKnown
                }
            }
            // gradAll += A_blockᵀ · (P+ε)_block, N × K
            gemm(cross.data, transposeA: true, target.data + block.lowerBound * k, gradAll.data, m: n, n: k, k: rows, beta: 1)
        }
        var totals = [lossSum, Double(known)]
        totals.withUnsafeMutableBufferPointer { communicator.allReduceSum($0.baseAddress!, count: 2) }
        let knownPairs = Int(totals[1])
        let grad = Tensor(shape: localProbs.shape)
        communicator.reduceScatterSum(gradAll.data, into: grad.data, countPerRank: grad.count)
        let scale = knownPairs > 0 ? -1 / Float(knownPairs) : 0
        for idx in 0..<grad.count { grad[idx] = scale * grad[idx] / (localProbs[idx] + epsilon) }
        return PairwiseLossResult(loss: knownPairs > 0 ? totals[0] / totals[1] : 0, gradProbs: grad, knownPairs: knownPairs)
    }
}
