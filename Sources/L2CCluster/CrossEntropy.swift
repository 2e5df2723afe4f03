import Foundation
import L2CComm
import L2CTensor

/// Softmax cross-entropy, averaged over the global batch: L = −(1/N) Σ_i ln softmax(z_i)[y_i],
/// dL/dz_i = (softmax(z_i) − onehot(y_i))/N for this rank's rows.
public enum CrossEntropy {
    public static func evaluate(logits: Tensor, labels: [Int], communicator: any Communicator) -> (loss: Double, gradLogits: Tensor) {
        let (rows, classes) = (logits.rows, logits.columns)
        precondition(labels.count == rows, "\(labels.count) labels for \(rows) rows")
        let logProbs = Softmax.logForward(logits)
        var totals = [0.0, Double(rows)]
        for r in 0..<rows {
            precondition(labels[r] >= 0 && labels[r] < classes, "label \(labels[r]) outside 0..<\(classes)")
            totals[0] -= Double(logProbs[r * classes + labels[r]])
        }
        totals.withUnsafeMutableBufferPointer { communicator.allReduceSum($0.baseAddress!, count: 2) }
        let scale = 1 / Float(totals[1])
        let grad = Tensor(shape: logits.shape)
        for r in 0..<rows {
            for c in 0..<classes { grad[r * classes + c] = expf(logProbs[r * classes + c]) * scale }
            grad[r * classes + labels[r]] -= scale
        }
        return (totals[0] / totals[1], grad)
    }
}
