import L2CCluster
import L2CComm
import L2CData
import L2CTensor

/// Cluster assignments of a whole dataset, computed in shards across ranks and gathered on all of them.
public enum Evaluation {
    /// argmax over the network's outputs for every sample, in dataset order.
    /// Rank r scores the contiguous shard r·⌈n/R⌉ ..< (r+1)·⌈n/R⌉ (the last padded with sample 0).
    public static func predict(_ model: Sequential, _ data: Dataset, communicator: any Communicator, batchSize: Int = 256) -> [Int] {
        let share = (data.count + communicator.size - 1) / communicator.size
        let first = communicator.rank * share
        var mine = [Int64](repeating: 0, count: share)
        var start = 0
        while start < share {
            let end = min(start + batchSize, share)
            let indices = (first + start..<first + end).map { $0 < data.count ? $0 : 0 }
            let logits = model.forward(data.batch(indices), .evaluation)
            let k = logits.columns
            for r in 0..<indices.count {
                var best = 0
                for c in 1..<k where logits[r * k + c] > logits[r * k + best] { best = c }
                mine[start + r] = Int64(best)
            }
            start = end
        }
        var all = [Int64](repeating: 0, count: share * communicator.size)
        mine.withUnsafeBufferPointer { m in
            all.withUnsafeMutableBufferPointer { communicator.allGather(m.baseAddress!, count: share, into: $0.baseAddress!) }
        }
        return all.prefix(data.count).map { Int($0) }
    }

    public static func score(_ model: Sequential, _ data: Dataset, communicator: any Communicator) -> ClusteringScores {
        ClusteringMetrics.score(truth: data.labels, predicted: predict(model, data, communicator: communicator))
    }
}
