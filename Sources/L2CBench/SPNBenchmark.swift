import Foundation
import L2CCluster
import L2CComm
import L2CExperiments
import L2CRun
import L2CTensor

/// The SPN pair head computed the way the reference code does: concatenate all N² pairs, then
/// Linear → BatchNorm → ReLU → Linear on N² rows. Only for the benchmark (and a test that it agrees).
public enum NaivePairHead {
    /// Loss and dL/dx of the head's cross-entropy on "same label" targets, one process.
    public static func lossAndGradient(_ head: SPNHead, x: Tensor, labels: [Int]) -> (loss: Double, gradX: Tensor) {
        let (n, f, h) = (x.rows, head.features, head.hidden)
        let pairs = n * n
        // pair p = i·N + j holds concat(x_j, x_i)
        let input = Tensor(shape: [pairs, 2 * f])
        for i in 0..<n {
            for j in 0..<n {
                let row = input.data + (i * n + j) * 2 * f
                row.update(from: x.data + j * f, count: f)
                (row + f).update(from: x.data + i * f, count: f)
            }
        }
        let linear1 = Tensor(shape: [pairs, h])
        for p in 0..<pairs { (linear1.data + p * h).update(from: head.linear1Bias.value.data, count: h) }
        gemm(input.data, head.linear1Weight.value.data, transposeB: true, linear1.data, m: pairs, n: h, k: 2 * f, beta: 1)
        // BatchNorm over the N² rows, then ReLU.
        var mean = [Double](repeating: 0, count: h), variance = [Double](repeating: 0, count: h)
        for p in 0..<pairs { for c in 0..<h { mean[c] += Double(linear1[p * h + c]) } }
        for c in 0..<h { mean[c] /= Double(pairs) }
        for p in 0..<pairs { for c in 0..<h { let d = Double(linear1[p * h + c]) - mean[c]; variance[c] += d * d } }
        let inverseStd = variance.map { Float(1 / ($0 / Double(pairs) + Double(head.epsilon)).squareRoot()) }
        let normalized = Tensor(shape: [pairs, h]), relu = Tensor(shape: [pairs, h])
        for p in 0..<pairs {
            for c in 0..<h {
                let v = (linear1[p * h + c] - Float(mean[c])) * inverseStd[c]
                normalized[p * h + c] = v
                relu[p * h + c] = max(head.gamma.value[c] * v + head.beta.value[c], 0)
            }
        }
        let logits = Tensor(shape: [pairs, 2])
        for p in 0..<pairs { logits[2 * p] = head.linear2Bias.value[0]; logits[2 * p + 1] = head.linear2Bias.value[1] }
        gemm(relu.data, head.linear2Weight.value.data, transposeB: true, logits.data, m: pairs, n: 2, k: h, beta: 1)
        let targets = (0..<pairs).map { labels[$0 / n] == labels[$0 % n] ? 1 : 0 }
        let (loss, dLogits) = CrossEntropy.evaluate(logits: logits, labels: targets, communicator: SingleProcessCommunicator())
        // Backward through Linear2, ReLU, BatchNorm, Linear1, and the concatenation.
        let dRelu = Tensor(shape: [pairs, h])
        gemm(dLogits.data, head.linear2Weight.value.data, dRelu.data, m: pairs, n: h, k: 2)
        var sumD = [Double](repeating: 0, count: h), sumDN = [Double](repeating: 0, count: h)
        for p in 0..<pairs {
            for c in 0..<h {
                let d = relu[p * h + c] > 0 ? dRelu[p * h + c] * head.gamma.value[c] : 0
                dRelu[p * h + c] = d
                sumD[c] += Double(d)
                sumDN[c] += Double(d * normalized[p * h + c])
            }
        }
        for p in 0..<pairs {
            for c in 0..<h {
                let i = p * h + c
                dRelu[i] = inverseStd[c] * (dRelu[i] - Float(sumD[c] / Double(pairs)) - normalized[i] * Float(sumDN[c] / Double(pairs)))
            }
        }
        let dInput = Tensor(shape: [pairs, 2 * f])
        gemm(dRelu.data, head.linear1Weight.value.data, dInput.data, m: pairs, n: 2 * f, k: h)
        let gradX = Tensor(shape: x.shape)
        for i in 0..<n {
            for j in 0..<n {
                let row = dInput.data + (i * n + j) * 2 * f
                for c in 0..<f { gradX[j * f + c] += row[c]; gradX[i * f + c] += row[f + c] }
            }
        }
        return (loss, gradX)
    }
}

/// `l2c bench-spn`: forward + backward of the SPN head over all pairs of a global batch, factorised vs naive.
public enum SPNBenchmark {
    public static func run(globalBatch n: Int, features f: Int, repeats: Int, naive: Bool, seed: UInt64,
                           communicator comm: any Communicator) throws -> [String: Any] {
        guard n % comm.size == 0 else { throw InputError("--n", "global batch \(n) is not divisible by the \(comm.size) ranks") }
        var rng = RandomGenerator(seed: seed)
        let head = SPNHead(features: f, rng: &rng)
        let all = (0..<(n * f)).map { _ in rng.normal() }
        let labels = (0..<n).map { _ in Int(rng.next() % 10) }
        let local = n / comm.size
        let x = Tensor(shape: [local, f], values: Array(all[(comm.rank * local * f)..<((comm.rank + 1) * local * f)]))
        func time(_ body: () -> Void) -> Double {
            var samples: [Double] = []
            for _ in 0..<(repeats + 1) {
                comm.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                comm.barrier()
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let measured = samples.dropFirst().sorted()
            return measured[measured.count / 2]
        }
        var loss = 0.0
        let factorised = time {
            for (_, p) in head.parameters { p.gradient.zero() }
            loss = head.train(localFeatures: x, similarity: LabelSimilarity(labels: labels), communicator: comm).loss
        }
        var result: [String: Any] = ["n": n, "features": f, "hidden": 4 * f, "ranks": comm.size, "loss": JSONLine.round(loss),
                                     "factorised_seconds": JSONLine.round(factorised, digits: 4)]
        if naive {
            guard comm.size == 1 else { throw InputError("--naive", "the naive head runs on one rank only") }
            var naiveLoss = 0.0
            let seconds = time { naiveLoss = NaivePairHead.lossAndGradient(head, x: x, labels: labels).loss }
            result["naive_seconds"] = JSONLine.round(seconds, digits: 4)
            result["naive_loss"] = JSONLine.round(naiveLoss)
            result["speedup"] = JSONLine.round(seconds / factorised, digits: 4)
        }
        var peak = Double(LossBenchmark.peakResidentMegabytes())
        comm.allReduceSum(&peak, count: 1)
        result["peak_rss_mb_total"] = JSONLine.round(peak, digits: 5)
        return result
    }
}
