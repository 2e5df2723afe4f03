import Foundation
import L2CComm
import L2CTensor

/// The auto-clustering output layer (ACOL) with graph-based activity regularisation (GAR), Kilinc & Uysal.
///
/// The network's last Linear layer has n = P·k nodes: P coarse classes (parents) with k duplicates each. Layout:
/// parent p owns the contiguous nodes p·k … p·k+k−1 (`parentOfNode` may describe any other). The coarse
/// probability of p is the sum of its nodes' softmax probabilities, trained with cross-entropy on the coarse
/// label; GAR on the pre-softmax activities Z makes the duplicates compete:
///   Z̄ = max(Z, 0),  U = Z̄ᵀZ̄ (n×n),  v = diag U,  V = vᵀv,
///   affinity = (ΣU − tr U)/((n−1)·tr U),  balance = (ΣV − tr V)/((n−1)·tr V),  coactivity = ΣU − tr U,
///   GAR = c₁·affinity + c₂·(1 − balance) + c₃·coactivity + c₄·Σ Z².
/// Exact across ranks: U and Σ Z² are sums over samples, so they are all-reduced before the ratios are formed;
/// every rank then gets the same dGAR/dU and its rows' gradient dZ̄ = Z̄·(G + Gᵀ), masked by [Z > 0], plus 2c₄Z.
public struct ACOLGAR {
    public let parents: Int
    public let duplicates: Int
    public var parentOfNode: [Int]
    public var c1: Double = 1
    public var c2: Double = 1
    public var c3: Double = 0
    public var c4: Double = 0

    public init(parents: Int, duplicates: Int) {
        self.parents = parents
        self.duplicates = duplicates
        parentOfNode = (0..<(parents * duplicates)).map { $0 / duplicates }
    }

    public var nodes: Int { parents * duplicates }

    public struct Terms {
        public var affinity = 0.0, balance = 0.0, coactivity = 0.0, squares = 0.0
        /// Σ_b Z̄_bj² per node over the global batch: a node whose entry is 0 had no positive activity.
        public var activity: [Double] = []
    }

    public struct Result {
        /// Cross-entropy on the coarse labels, averaged over the global batch.
        public let crossEntropy: Double
        /// The GAR value (before `garWeight`).
        public let gar: Double
        public let garWeight: Double
        public let terms: Terms
        /// d(crossEntropy + garWeight·GAR)/dZ for this rank's rows.
        public let gradZ: Tensor
        public var loss: Double { crossEntropy + garWeight * gar }
    }

    /// Softmax over the n nodes, then summed per parent: [rows][P].
    public func parentProbabilities(_ z: Tensor) -> Tensor {
        let probs = Softmax.forward(z)
        let out = Tensor(shape: [z.rows, parents])
        for r in 0..<z.rows { for j in 0..<nodes { out[r * parents + parentOfNode[j]] += probs[r * nodes + j] } }
        return out
    }

    public func evaluate(localZ z: Tensor, coarseLabels labels: [Int], garWeight: Double = 1,
                         communicator comm: any Communicator) -> Result {
        let (rows, n) = (z.rows, nodes)
        precondition(z.columns == n, "ACOL with \(parents)×\(duplicates) nodes got activities \(z.shape)")
        precondition(labels.count == rows, "\(labels.count) coarse labels for \(rows) rows")
        // Cross-entropy on the parents: dL/dz_m = (s_m − [m ∈ G_y]·s_m/S_y)/B, S_y = Σ_{m ∈ G_y} s_m.
        let probs = Softmax.forward(z)
        let grad = Tensor(shape: z.shape)
        var totals = [0.0, Double(rows)]
        for r in 0..<rows {
            var groupSum: Float = 0
            for j in 0..<n where parentOfNode[j] == labels[r] { groupSum += probs[r * n + j] }
            totals[0] -= Double(logf(groupSum))
            for j in 0..<n {
                let s = probs[r * n + j]
                grad[r * n + j] = s - (parentOfNode[j] == labels[r] ? s / groupSum : 0)
            }
        }
        // GAR: U = Z̄ᵀZ̄ and Σ Z² over the global batch.
        let positive = Tensor(shape: z.shape)
        var squares = 0.0
        for i in 0..<z.count { positive[i] = max(z[i], 0); squares += Double(z[i]) * Double(z[i]) }
        let localU = Tensor(shape: [n, n])
        gemm(positive.data, transposeA: true, positive.data, localU.data, m: n, n: n, k: rows)
        var shared = localU.array.map(Double.init) + [squares] + totals
        shared.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: n * n + 3) }
        let u = Array(shared[0..<(n * n)])
        let batch = shared[n * n + 2]
        var terms = Terms()
        terms.squares = shared[n * n]
        terms.activity = (0..<n).map { u[$0 * n + $0] }
        let trace = terms.activity.reduce(0, +), total = u.reduce(0, +)
        let traceV = terms.activity.reduce(0) { $0 + $1 * $1 }
        let m = Double(n - 1)
        // dGAR/dU, symmetric:
        //   affinity:    1/((n−1)T) − δ_ij·S/((n−1)T²)                       (S = ΣU, T = tr U)
        //   balance:     on the diagonal, (2s₁/s₂ − 2s₁²v_i/s₂²)/(n−1)        (s₁ = Σv = T, s₂ = Σv²)
        //   coactivity:  1 − δ_ij
        var gradU = [Double](repeating: 0, count: n * n)
        if trace > 0 && n > 1 {
            terms.affinity = (total - trace) / (m * trace)
            terms.balance = (trace * trace - traceV) / (m * traceV)
            terms.coactivity = total - trace
            for i in 0..<n {
                for j in 0..<n {
                    var g = c1 / (m * trace) + c3
                    if i == j {
                        g -= c1 * total / (m * trace * trace) + c3
                        g -= c2 * (2 * trace / traceV - 2 * trace * trace * terms.activity[i] / (traceV * traceV)) / m
                    }
                    gradU[i * n + j] = g * garWeight
                }
            }
        }
        let gar = c1 * terms.affinity + c2 * (1 - terms.balance) + c3 * terms.coactivity + c4 * terms.squares
        // dZ̄ = Z̄·(G + Gᵀ) = 2·Z̄·G (G symmetric); dZ = dZ̄·[Z > 0] + 2c₄Z; CE part scaled by 1/B.
        let symmetric = Tensor(shape: [n, n], values: gradU.map { Float(2 * $0) })
        let gradPositive = Tensor(shape: z.shape)
        gemm(positive.data, symmetric.data, gradPositive.data, m: rows, n: n, k: n)
        let ceScale = Float(1 / batch), l2 = Float(2 * c4 * garWeight)
        for i in 0..<z.count {
            grad[i] = grad[i] * ceScale + (z[i] > 0 ? gradPositive[i] : 0) + l2 * z[i]
        }
        return Result(crossEntropy: shared[n * n + 1] / batch, gar: gar, garWeight: garWeight, terms: terms, gradZ: grad)
    }
}
