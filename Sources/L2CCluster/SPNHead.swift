import Foundation
import L2CComm
import L2CTensor

/// The L2C similarity prediction head, Linear(2f→H) → BatchNorm1d(H) → ReLU → Linear(H→2), H = 4f, applied to
/// every ordered pair (i, j) of the global batch with input concat(x_j, x_i) (PairEnum's order: x_j first).
///
/// Never concatenates the N² pairs. The first Linear splits as W₁ = [W_a | W_b]:
///   h_ij = W_a x_j + W_b x_i + b₁ = A_j + B_i + b₁,   A = X·W_aᵀ, B = X·W_bᵀ computed once per sample,
/// and BatchNorm's statistics over the N² pair rows follow exactly from per-sample ones:
///   μ = Ā + B̄ + b₁,   σ² = var(A) + var(B)   (the cross term Σ_ij (A_j − Ā)(B_i − B̄) vanishes),
/// so the normalised pair is n_ij = â_j + b̂_i with â = (A − Ā)/σ, b̂ = (B − B̄)/σ. Only the ReLU and the last
/// Linear run per pair, on row blocks of N×H.
///
/// Backward: with dpre_ij = dL/d(BatchNorm output) and dn = γ·dpre, BatchNorm's adjoint
///   dh_ij = (dn_ij − m₁ − n_ij·m₂)/σ,  m₁ = mean dn, m₂ = mean dn·n (over all N² pairs)
/// sums over pairs to per-sample gradients, using Σ_i n_ij = N·â_j:
///   dA_j = (Σ_i dn_ij − N·m₁ − N·m₂·â_j)/σ,   dB_i = (Σ_j dn_ij − N·m₁ − N·m₂·b̂_i)/σ.
/// Distributed: rank r owns the outer rows i of its samples; features are all-gathered, the column sums
/// Σ_i dn_ij return to j's owner by reduce-scatter.
public final class SPNHead {
    public let features: Int
    public let hidden: Int
    public let linear1Weight: Parameter   // [H][2f]
    public let linear1Bias: Parameter     // [H]
    public let gamma: Parameter           // [H]
    public let beta: Parameter            // [H]
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public let linear2Weight: Parameter   // [2][H]
    public let linear2Bias: Parameter     // [2]
    public let epsilon: Float = 1e-5
    public let momentum: Float = 0.1
    /// A pair is predicted similar when logit(similar) − logit(dissimilar) > decisionMargin: the log-odds
    /// log(τ/(1−τ)) of the probability threshold τ (0: τ = ½, the default; a checkpoint's `decision_margin` restores it).
    public var decisionMargin: Float = 0

    public init(features: Int, rng: inout RandomGenerator) {
        self.features = features
        hidden = 4 * features
        let first = Linear(2 * features, hidden, rng: &rng)
        let second = Linear(hidden, 2, rng: &rng)
        linear1Weight = first.weight
        linear1Bias = first.bias!
        linear2Weight = second.weight
        linear2Bias = second.bias!
        let g = Tensor(shape: [hidden]); g.fill(1)
        gamma = Parameter(g, decays: false)
        beta = Parameter(Tensor(shape: [hidden]), decays: false)
        runningMean = Tensor(shape: [hidden])
        runningVariance = Tensor(shape: [hidden]); runningVariance.fill(1)
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        [("linear1.weight", linear1Weight), ("linear1.bias", linear1Bias), ("bn.weight", gamma), ("bn.bias", beta),
         ("linear2.weight", linear2Weight), ("linear2.bias", linear2Bias)]
    }

    public var buffers: [(name: String, tensor: Tensor)] {
        [("bn.running_mean", runningMean), ("bn.running_var", runningVariance)]
    }

    /// Which BatchNorm statistics a forward pass uses.
    public enum Statistics: String, Sendable {
        /// The pairs of the current global batch (training; the reference's default on target data too).
        case batch
        /// The running statistics accumulated in training.
        case running
    }

    /// The per-sample half of the head for the whole global batch: G = γ⊙â (N×H) and c = γ⊙b̂ + β (N×H),
    /// so that BatchNorm's output for pair (i, j) is G_j + c_i.
    public final class PairTerms {
        public let total: Int
        public let firstRow: Int
        public let localRows: Int
        let inputs: Tensor        // all N features, N×f
        let normalizedA: Tensor   // â, N×H
        let normalizedB: Tensor   // b̂, N×H
        let columnTerm: Tensor    // G = γ⊙â
        let rowTerm: Tensor       // c = γ⊙b̂ + β
        let inverseStd: [Float]
        let mean: [Float]
        let variance: [Float]

        init(total: Int, firstRow: Int, localRows: Int, inputs: Tensor, normalizedA: Tensor, normalizedB: Tensor,
             columnTerm: Tensor, rowTerm: Tensor, inverseStd: [Float], mean: [Float], variance: [Float]) {
            self.total = total
            self.firstRow = firstRow
            self.localRows = localRows
            self.inputs = inputs
            self.normalizedA = normalizedA
            self.normalizedB = normalizedB
            self.columnTerm = columnTerm
            self.rowTerm = rowTerm
            self.inverseStd = inverseStd
            self.mean = mean
            self.variance = variance
        }
    }

    /// All-gathers the local features and computes the per-sample terms of every pair.
    public func pairTerms(localFeatures: Tensor, statistics: Statistics, communicator comm: any Communicator) -> PairTerms {
        let (localRows, f, h) = (localFeatures.rows, features, hidden)
        precondition(localFeatures.columns == f, "SPN head for \(f) features got \(localFeatures.shape)")
        let n = localRows * comm.size
        let x = Tensor(shape: [n, f])
        comm.allGather(localFeatures.data, count: localFeatures.count, into: x.data)
        // A = X·W_aᵀ, B = X·W_bᵀ: W_a and W_b are the first and second f columns of W₁ (row stride 2f).
        let a = Tensor(shape: [n, h]), b = Tensor(shape: [n, h])
        gemm(x.data, linear1Weight.value.data, transposeB: true, a.data, m: n, n: h, k: f, ldb: 2 * f)
        gemm(x.data, linear1Weight.value.data + f, transposeB: true, b.data, m: n, n: h, k: f, ldb: 2 * f)
        var centerA = [Float](repeating: 0, count: h), centerB = [Float](repeating: 0, count: h)
        var mean = [Float](repeating: 0, count: h), variance = [Float](repeating: 0, count: h)
        switch statistics {
        case .batch:
            for c in 0..<h {
                var sa = 0.0, sb = 0.0
                for r in 0..<n { sa += Double(a[r * h + c]); sb += Double(b[r * h + c]) }
                let ma = sa / Double(n), mb = sb / Double(n)
                var va = 0.0, vb = 0.0
                for r in 0..<n {
                    let da = Double(a[r * h + c]) - ma, db = Double(b[r * h + c]) - mb
                    va += da * da; vb += db * db
                }
                centerA[c] = Float(ma); centerB[c] = Float(mb)
                mean[c] = Float(ma + mb) + linear1Bias.value[c]
                variance[c] = Float((va + vb) / Double(n))
            }
        case .running:
            for c in 0..<h {
                mean[c] = runningMean[c]
                variance[c] = runningVariance[c]
                centerB[c] = mean[c] - linear1Bias.value[c]
            }
        }
        let inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let normalizedA = Tensor(shape: [n, h]), normalizedB = Tensor(shape: [n, h])
        let columnTerm = Tensor(shape: [n, h]), rowTerm = Tensor(shape: [n, h])
        for r in 0..<n {
            for c in 0..<h {
                let i = r * h + c
                normalizedA[i] = (a[i] - centerA[c]) * inverseStd[c]
                normalizedB[i] = (b[i] - centerB[c]) * inverseStd[c]
                columnTerm[i] = gamma.value[c] * normalizedA[i]
                rowTerm[i] = gamma.value[c] * normalizedB[i] + beta.value[c]
            }
        }
        return PairTerms(total: n, firstRow: comm.rank * localRows, localRows: localRows, inputs: x, normalizedA: normalizedA,
                         normalizedB: normalizedB, columnTerm: columnTerm, rowTerm: rowTerm, inverseStd: inverseStd,
                         mean: mean, variance: variance)
    }

    /// Logits [N][2] of the pairs (i, 0..<N) for one outer sample i; `hiddenOut` receives the ReLU output N×H.
    func rowLogits(_ terms: PairTerms, row i: Int, hiddenOut: Tensor, logits: Tensor) {
        let (n, h) = (terms.total, hidden)
        let c = terms.rowTerm.data + i * h
        for j in 0..<n {
            let g = terms.columnTerm.data + j * h, out = hiddenOut.data + j * h
            for k in 0..<h { out[k] = max(g[k] + c[k], 0) }
        }
        for j in 0..<n { logits[2 * j] = linear2Bias.value[0]; logits[2 * j + 1] = linear2Bias.value[1] }
        gemm(hiddenOut.data, linear2Weight.value.data, transposeB: true, logits.data, m: n, n: 2, k: h, beta: 1)
    }

    /// The head's logits for all N² pairs, row-major by p = i·N + j (for tests and small batches).
    public func logits(_ terms: PairTerms) -> Tensor {
        let n = terms.total
        let all = Tensor(shape: [n * n, 2])
        let hiddenOut = Tensor(shape: [n, hidden]), row = Tensor(shape: [n, 2])
        for i in 0..<n {
            rowLogits(terms, row: i, hiddenOut: hiddenOut, logits: row)
            (all.data + i * n * 2).update(from: row.data, count: 2 * n)
        }
        return all
    }

    /// One training pass over all pairs of the global batch with cross-entropy on "same" (S = +1 → class 1,
    /// S = −1 → class 0; S = 0 pairs are skipped), averaged over the known pairs. Accumulates this rank's share
    /// of every parameter gradient, updates the running statistics, and returns dL/d(local features).
    public func train(localFeatures: Tensor, similarity: any PairSimilarity,
                      communicator comm: any Communicator) -> (loss: Double, gradFeatures: Tensor, knownPairs: Int) {
        let terms = pairTerms(localFeatures: localFeatures, statistics: .batch, communicator: comm)
        let (n, h, f) = (terms.total, hidden, features)
        precondition(similarity.count == n, "similarity covers \(similarity.count) samples, the global batch has \(n)")
        let hiddenOut = Tensor(shape: [n, h]), logits = Tensor(shape: [n, 2]), dLogits = Tensor(shape: [n, 2])
        let columnSums = Tensor(shape: [n, h])              // Σ over local i of dpre_ij, per column j
        let rowSums = Tensor(shape: [terms.localRows, h])   // Σ over j of dpre_ij, per local row i
        let gradW2 = Tensor(shape: [2, h])
        var gradB2: [Double] = [0, 0]
        var simi = [Int8](repeating: 0, count: n)
        var lossSum = 0.0, known = 0
        for r in 0..<terms.localRows {
            let i = terms.firstRow + r
            rowLogits(terms, row: i, hiddenOut: hiddenOut, logits: logits)
            simi.withUnsafeMutableBufferPointer { similarity.fill(rows: i..<(i + 1), into: $0.baseAddress!) }
            for j in 0..<n {
                let l0 = logits[2 * j], l1 = logits[2 * j + 1]
                guard simi[j] != 0 else { dLogits[2 * j] = 0; dLogits[2 * j + 1] = 0; continue }
                let m = max(l0, l1)
                let e0 = expf(l0 - m), e1 = expf(l1 - m)
                let lse = m + logf(e0 + e1)
                let target = simi[j] > 0 ? 1 : 0
                lossSum += Double(lse - (target == 1 ? l1 : l0))
                known += 1
                let p1 = e1 / (e0 + e1)
                dLogits[2 * j] = (1 - p1) - Float(1 - target)
                dLogits[2 * j + 1] = p1 - Float(target)
                gradB2[0] += Double(dLogits[2 * j]); gradB2[1] += Double(dLogits[2 * j + 1])
            }
            // dW2 += dLogitsᵀ·R ; dR = dLogits·W2 (reusing hiddenOut after), masked by the ReLU.
            gemm(dLogits.data, transposeA: true, hiddenOut.data, gradW2.data, m: 2, n: h, k: n, beta: 1)
            let rowSum = rowSums.data + r * h
            for j in 0..<n {
                let d0 = dLogits[2 * j], d1 = dLogits[2 * j + 1]
                let out = hiddenOut.data + j * h, col = columnSums.data + j * h
                let w0 = linear2Weight.value.data, w1 = linear2Weight.value.data + h
                for k in 0..<h {
                    let dpre = out[k] > 0 ? d0 * w0[k] + d1 * w1[k] : 0
                    col[k] += dpre
                    rowSum[k] += dpre
                }
            }
        }
        var totals = [lossSum, Double(known)]
        totals.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 2) }
        let knownPairs = Int(totals[1])
        let scale = knownPairs > 0 ? 1 / Float(knownPairs) : 0
        // This rank's share of the BatchNorm parameter gradients and of the global sums m₁, m₂:
        //   Σ dpre = Σ_{local i} rowSums_i ;  Σ dpre·n = Σ_j columnSums_j·â_j + Σ_{local i} rowSums_i·b̂_i.
        var sums = [Double](repeating: 0, count: 2 * h)
        for c in 0..<h {
            var s1 = 0.0, s2 = 0.0
            for r in 0..<terms.localRows {
                let v = Double(rowSums[r * h + c])
                s1 += v
                s2 += v * Double(terms.normalizedB[(terms.firstRow + r) * h + c])
            }
            for j in 0..<n { s2 += Double(columnSums[j * h + c]) * Double(terms.normalizedA[j * h + c]) }
            sums[c] = s1 * Double(scale)
            sums[h + c] = s2 * Double(scale)
            beta.gradient[c] += Float(sums[c])
            gamma.gradient[c] += Float(sums[h + c])
        }
        for k in 0..<(2 * h) { linear2Weight.gradient[k] += gradW2[k] * scale }
        linear2Bias.gradient[0] += Float(gradB2[0]) * scale
        linear2Bias.gradient[1] += Float(gradB2[1]) * scale
        sums.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 2 * h) }
        // Column sums of the local rows go to the owners of the columns.
        let ownColumnSums = Tensor(shape: [terms.localRows, h])
        comm.reduceScatterSum(columnSums.data, into: ownColumnSums.data, countPerRank: ownColumnSums.count)
        let pairs = Float(n) * Float(n)
        let gradA = Tensor(shape: [terms.localRows, h]), gradB = Tensor(shape: [terms.localRows, h])
        for c in 0..<h {
            let g = gamma.value[c]
            let m1 = g * Float(sums[c]) / pairs, m2 = g * Float(sums[h + c]) / pairs
            let s = terms.inverseStd[c], nf = Float(n)
            for r in 0..<terms.localRows {
                let row = terms.firstRow + r
                let dnCol = g * ownColumnSums[r * h + c] * scale, dnRow = g * rowSums[r * h + c] * scale
                gradA[r * h + c] = s * (dnCol - nf * m1 - nf * m2 * terms.normalizedA[row * h + c])
                gradB[r * h + c] = s * (dnRow - nf * m1 - nf * m2 * terms.normalizedB[row * h + c])
            }
        }
        // h_ij = W_a x_j + W_b x_i + b₁: dW_a += dAᵀ·X_own, dW_b += dBᵀ·X_own, db₁ += Σ dA, dX_own = dA·W_a + dB·W_b.
        let ownInputs = terms.inputs.data + terms.firstRow * f
        gemm(gradA.data, transposeA: true, ownInputs, linear1Weight.gradient.data, m: h, n: f, k: terms.localRows, beta: 1, ldc: 2 * f)
        gemm(gradB.data, transposeA: true, ownInputs, linear1Weight.gradient.data + f, m: h, n: f, k: terms.localRows, beta: 1, ldc: 2 * f)
        for r in 0..<terms.localRows { for c in 0..<h { linear1Bias.gradient[c] += gradA[r * h + c] } }
        let gradFeatures = Tensor(shape: localFeatures.shape)
        gemm(gradA.data, linear1Weight.value.data, gradFeatures.data, m: terms.localRows, n: f, k: h, lda: h, ldb: 2 * f)
        gemm(gradB.data, linear1Weight.value.data + f, gradFeatures.data, m: terms.localRows, n: f, k: h, beta: 1, lda: h, ldb: 2 * f)
        // Running statistics over the N² pair rows (unbiased variance).
        let unbiased = pairs > 1 ? pairs / (pairs - 1) : 1
        for c in 0..<h {
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * terms.mean[c]
            runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * terms.variance[c] * unbiased
        }
        return (knownPairs > 0 ? totals[0] / totals[1] : 0, gradFeatures, knownPairs)
    }

    /// The head's binarised prediction as pair supervision: S_ij = +1 if it predicts "similar", −1 otherwise.
    public func predictedSimilarity(_ terms: PairTerms) -> PredictedSimilarity {
        PredictedSimilarity(head: self, terms: terms)
    }

    /// logit(similar) − logit(dissimilar) of the pairs (i, 0..<N) for each outer row i of `rows`, row-major into `out`.
    public func margins(_ terms: PairTerms, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let n = terms.total
        let hiddenOut = Tensor(shape: [n, hidden]), logits = Tensor(shape: [n, 2])
        for (r, i) in rows.enumerated() {
            rowLogits(terms, row: i, hiddenOut: hiddenOut, logits: logits)
            for j in 0..<n { out[r * n + j] = logits[2 * j + 1] - logits[2 * j] }
        }
    }
}

/// Pair supervision predicted by an SPN head, computed row by row on demand (no N×N matrix is kept).
public struct PredictedSimilarity: PairSimilarity {
    let head: SPNHead
    let terms: SPNHead.PairTerms
    public var count: Int { terms.total }

    public func fill(rows: Range<Int>, into out: UnsafeMutablePointer<Int8>) {
        let n = terms.total
        let margins = Tensor(shape: [rows.count, n])
        head.margins(terms, rows: rows, into: margins.data)
        for p in 0..<margins.count { out[p] = margins[p] > head.decisionMargin ? 1 : -1 }
    }
}
