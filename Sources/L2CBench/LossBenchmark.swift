import Foundation
import L2CCluster
import L2CComm
import L2CExperiments
import L2CRun
import L2CTensor

/// Times one forward+backward of a pairwise loss on a global batch of N random samples over K clusters.
public enum LossBenchmark {
    public static func run(loss kind: LossKind, globalBatch n: Int, clusters k: Int, repeats: Int, seed: UInt64,
                           communicator comm: any Communicator) throws -> [String: Any] {
        guard kind != .ce else { throw InputError("--loss", "the loss benchmark times the pairwise losses: kcl or mcl") }
        guard n % comm.size == 0 else { throw InputError("--n", "global batch \(n) is not divisible by the \(comm.size) ranks") }
        let local = n / comm.size
        var rng = RandomGenerator(seed: seed)
        // Every rank draws the same global batch and keeps its shard, so the work matches any rank count.
        let allLogits = (0..<(n * k)).map { _ in rng.normal() * 3 }
        let labels = (0..<n).map { _ in Int(rng.next() % 10) }
        let logits = Tensor(shape: [local, k], values: Array(allLogits[(comm.rank * local * k)..<((comm.rank + 1) * local * k)]))
        let similarity = LabelSimilarity(labels: labels)
        let loss: any PairwiseLoss = kind == .kcl ? KCL() : MCL()
        var times: [Double] = []
        var value = 0.0
        for _ in 0..<(repeats + 1) {
            comm.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            let probs = Softmax.forward(logits)
            let result = loss.evaluate(localProbs: probs, similarity: similarity, communicator: comm)
            _ = Softmax.backward(probs: probs, gradProbs: result.gradProbs)
            comm.barrier()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            value = result.loss
        }
        let measured = times.dropFirst().sorted()   // the first run warms up
        var peak = Double(peakResidentMegabytes())
        comm.allReduceSum(&peak, count: 1)
        return ["loss_kind": kind.rawValue, "n": n, "k": k, "ranks": comm.size, "loss": JSONLine.round(value),
                "median_seconds": JSONLine.round(measured[measured.count / 2], digits: 4),
                "min_seconds": JSONLine.round(measured.first!, digits: 4),
                "peak_rss_mb_total": JSONLine.round(peak, digits: 5)]
    }

    /// Peak resident memory of this process in MiB (getrusage reports KiB on Linux).
    public static func peakResidentMegabytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) / 1024
    }
}
