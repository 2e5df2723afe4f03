import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// Cluster assignments of a whole dataset, computed in shards across ranks and gathered on all of them.
public enum Evaluation {
    /// The network's outputs for every sample, in dataset order, [count][outputs] on every rank.
    /// Rank r computes the contiguous shard r·⌈n/R⌉ ..< (r+1)·⌈n/R⌉ (the last padded with sample 0).
    public static func outputs(_ model: Sequential, _ data: Dataset, communicator: any Communicator, batchSize: Int = 256) -> Tensor {
        let share = (data.count + communicator.size - 1) / communicator.size
        let first = communicator.rank * share
        var mine: [Float] = []
        var width = 0
        var start = 0
        while start < share {
            let end = min(start + batchSize, share)
            let logits = model.forward(data.batch((first + start..<first + end).map { $0 < data.count ? $0 : 0 }), .evaluation)
            width = logits.columns
            mine += logits.array
            start = end
        }
        var widths = [Float(width)]
        widths.withUnsafeMutableBufferPointer { communicator.allReduceSum($0.baseAddress!, count: 1) }
        width = Int(widths[0]) / communicator.size
        if mine.isEmpty { mine = [Float](repeating: 0, count: share * width) }
        let all = Tensor(shape: [share * communicator.size, width])
        mine.withUnsafeBufferPointer { communicator.allGather($0.baseAddress!, count: share * width, into: all.data) }
        return Tensor(shape: [data.count, width], values: Array(all.array.prefix(data.count * width)))
    }

    /// argmax over the network's outputs for every sample, in dataset order.
    public static func predict(_ model: Sequential, _ data: Dataset, communicator: any Communicator, batchSize: Int = 256) -> [Int] {
        argmax(outputs(model, data, communicator: communicator, batchSize: batchSize))
    }

    /// The share of `predicted` equal to `truth`.
    public static func accuracy(_ predicted: [Int], _ truth: [Int]) -> Double {
        Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(max(truth.count, 1))
    }

    public static func argmax(_ outputs: Tensor) -> [Int] {
        let k = outputs.columns
        return (0..<outputs.rows).map { r in
            var best = 0
            for c in 1..<k where outputs[r * k + c] > outputs[r * k + best] { best = c }
            return best
        }
    }

    public static func score(_ model: Sequential, _ data: Dataset, communicator: any Communicator) -> ClusteringScores {
        ClusteringMetrics.score(truth: data.labels, predicted: predict(model, data, communicator: communicator))
    }
}
