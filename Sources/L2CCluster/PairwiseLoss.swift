import L2CComm
import L2CTensor

/// The value of a pairwise loss over the global batch and its gradient for this rank's samples.
public struct PairwiseLossResult {
    /// Mean over the known pairs of the global batch (identical on every rank).
    public let loss: Double
    /// dL/d(probabilities) of this rank's rows, [localBatch, K].
    public let gradProbs: Tensor
    /// Pairs with known similarity in the global batch: the mean's denominator.
    public let knownPairs: Int
}

/// A loss over all N² ordered pairs (i, j) of the global batch, i the outer and j the inner index.
///
/// Distributed scheme: every rank all-gathers the N×K probabilities, computes the pair terms of its own
/// rows i over all columns j (in blocks of rows, through GEMMs: never an N²×K tensor), keeps the gradient of
/// its own rows and sends the gradient of every column j to j's owner with reduce-scatter, the adjoint of
/// the all-gather. Unknown pairs (S = 0) are left out of the sum and of the denominator.
public protocol PairwiseLoss {
    func evaluate(localProbs: Tensor, similarity: any PairSimilarity, communicator: any Communicator) -> PairwiseLossResult
}

/// Shared plumbing of the pairwise losses: gathering, row blocks, the final reductions.
struct PairBatch {
    let localRows: Int
    let classes: Int
    let total: Int
    let firstRow: Int
    /// All N×K probabilities, in rank order.
    let all: Tensor

    init(localProbs: Tensor, similarity: any PairSimilarity, communicator: any Communicator) {
        localRows = localProbs.rows
        classes = localProbs.columns
        total = localRows * communicator.size
        precondition(similarity.count == total,
                     "similarity covers \(similarity.count) samples but the global batch has \(total)")
        firstRow = localRows * communicator.rank
        all = Tensor(shape: [total, classes])
        communicator.allGather(localProbs.data, count: localProbs.count, into: all.data)
    }

    /// Row blocks of at most `blockRows` local rows, so that the block×N work matrices stay small.
    func blocks(of blockRows: Int) -> [Range<Int>] {
        stride(from: 0, to: localRows, by: blockRows).map { $0..<min($0 + blockRows, localRows) }
    }
}
