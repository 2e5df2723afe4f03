import Foundation
import L2CComm
import L2CTensor

/// Meta classification likelihood (Hsu et al., L2C's MCL).
///
/// For pair (i, j): t_ij = p_i·p_j, i.e. T = P_local·Pᵀ;
///   ℓ = −ln(t + ε) if S = +1,  −ln(1 − t + ε) if S = −1;  unknown pairs (S = 0) are excluded.
/// Both sides receive gradient: with D_ij = dℓ/dt_ij,
///   dL/dP = (1/known)·(D·P + Dᵀ·P): the first term for the local rows directly, the second for the
/// columns through reduce-scatter. ε = 1e-7 as in the reference.
public struct MCL: PairwiseLoss {
    public let epsilon: Float
    public let blockRows: Int

    public init(epsilon: Float = 1e-7, blockRows: Int = 512) {
        self.epsilon = epsilon
        self.blockRows = blockRows
    }

    public func evaluate(localProbs: Tensor, similarity: any PairSimilarity, communicator: any Communicator) -> PairwiseLossResult {
        let batch = PairBatch(localProbs: localProbs, similarity: similarity, communicator: communicator)
        let (n, k) = (batch.total, batch.classes)
        let gradAll = Tensor(shape: [n, k])
        let grad = Tensor(shape: localProbs.shape)
        let inner = Tensor(shape: [min(blockRows, batch.localRows), n])   // becomes D in place
        var simi = [Int8](repeating: 0, count: inner.count)
        var lossSum: Double = 0
        var known = 0
        for block in batch.blocks(of: blockRows) {
            let rows = block.count
            let localBlock = localProbs.data + block.lowerBound * k
            gemm(localBlock, batch.all.data, transposeB: true, inner.data, m: rows, n: n, k: k)
            simi.withUnsafeMutableBufferPointer { s in
                similarity.fill(rows: (batch.firstRow + block.lowerBound)..<(batch.firstRow + block.upperBound), into: s.baseAddress!)
                for r in 0..<rows {
                    let (rowLoss, rowKnown) = PairKernels.mcl(inner.data + r * n, s.baseAddress! + r * n, count: n, epsilon: epsilon)
                    lossSum += rowLoss
                    known += rowKnown
                }
            }
            // Local rows: grad_block += D·P (rows × K); columns: gradAll += Dᵀ·P_block (N × K).
            gemm(inner.data, batch.all.data, grad.data + block.lowerBound * k, m: rows, n: k, k: n)
            gemm(inner.data, transposeA: true, localBlock, gradAll.data, m: n, n: k, k: rows, beta: 1)
        }
        var totals = [lossSum, Double(known)]
        totals.withUnsafeMutableBufferPointer { communicator.allReduceSum($0.baseAddress!, count: 2) }
        let knownPairs = Int(totals[1])
        let columnPart = Tensor(shape: localProbs.shape)
        communicator.reduceScatterSum(gradAll.data, into: columnPart.data, countPerRank: grad.count)
        let scale = knownPairs > 0 ? 1 / Float(knownPairs) : 0
        for idx in 0..<grad.count { grad[idx] = scale * (grad[idx] + columnPart[idx]) }
        return PairwiseLossResult(loss: knownPairs > 0 ? totals[0] / totals[1] : 0, gradProbs: grad, knownPairs: knownPairs)
    }
}
