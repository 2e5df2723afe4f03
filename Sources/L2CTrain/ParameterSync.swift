import L2CComm
import L2CTensor

/// Keeps the replicas of a model identical across ranks.
public enum ParameterSync {
    /// Rank 0's parameters and buffers overwrite everyone else's.
    public static func broadcastFromRoot(_ tensors: [(name: String, tensor: Tensor)], _ communicator: any Communicator) {
        for (_, t) in tensors { communicator.broadcast(t.data, count: t.count, root: 0) }
    }

    /// Σ over ranks of every parameter gradient, in one all-reduce over a packed buffer.
    /// Each rank's gradient is its share of the global-batch loss, so the sum is the global gradient.
    /// `control` rides along at the end of the same buffer and comes back summed over ranks: the loop's
    /// stop and checkpoint requests cost no extra round trip.
    public static func allReduceGradients(_ parameters: [(name: String, parameter: Parameter)], _ communicator: any Communicator,
                                          packed: inout Tensor?, control: inout [Float]) {
        guard communicator.size > 1 else { return }
        let gradients = parameters.reduce(0) { $0 + $1.parameter.gradient.count }
        let buffer = Tensor.reuse(&packed, shape: [gradients + control.count])
        var offset = 0
        for (_, p) in parameters {
            (buffer.data + offset).update(from: p.gradient.data, count: p.gradient.count)
            offset += p.gradient.count
        }
        control.withUnsafeBufferPointer { (buffer.data + gradients).update(from: $0.baseAddress!, count: $0.count) }
        communicator.allReduceSum(buffer.data, count: gradients + control.count)
        offset = 0
        for (_, p) in parameters {
            p.gradient.data.update(from: buffer.data + offset, count: p.gradient.count)
            offset += p.gradient.count
        }
        control.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: buffer.data + gradients, count: $0.count) }
    }

    /// A fingerprint of the names and shapes, for checking that all ranks built the same model.
    public static func shapeSignature(_ tensors: [(name: String, tensor: Tensor)]) -> String {
        tensors.map { "\($0.name):\($0.tensor.shape)" }.joined(separator: ";")
    }
}
