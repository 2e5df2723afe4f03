import L2CComm
import L2CTensor

/// Keeps the replicas of a model identical across ranks.
public enum ParameterSync {
    /// Rank 0's parameters and buffers overwrite everyone else's.
    public static func broadcastFromRoot(_ tensors: [(name: String, tensor: Tensor)], _ communicator: any Communicator) {
        for (_, t) in tensors { communicator.broadcast(t.data, count: t.count, root: 0) }
    }

    /// Σ over ranks of every parameter gradient, in one in-place all-reduce of the flat gradient buffer.
    /// Each rank's gradient is its share of the global-batch loss, so the sum is the global gradient.
    /// `control` rides along in the buffer's spare floats and comes back summed over ranks: the loop's stop
    /// and checkpoint requests cost no extra round trip.
    public static func allReduceGradients(_ flat: FlatParameters, _ communicator: any Communicator, control: inout [Float]) {
        precondition(control.count <= flat.spare, "\(control.count) control values for \(flat.spare) spare floats")
        guard communicator.size > 1 else { return }
        let slots = flat.spareSlots
        for i in 0..<slots.count { slots[i] = i < control.count ? control[i] : 0 }
        communicator.allReduceSum(flat.gradients.data, count: flat.gradients.count)
        for i in 0..<control.count { control[i] = slots[i] }
    }

    /// A fingerprint of the names and shapes, for checking that all ranks built the same model.
    public static func shapeSignature(_ tensors: [(name: String, tensor: Tensor)]) -> String {
        tensors.map { "\($0.name):\($0.tensor.shape)" }.joined(separator: ";")
    }
}
