import L2CComm
import L2CTensor

/// Keeps the replicas of a model identical across ranks.
public enum ParameterSync {
    /// Rank 0's parameters and buffers overwrite everyone else's.
    public static func broadcastFromRoot(_ tensors: [(name: String, tensor: Tensor)], _ communicator: any Communicator) {
        for (_, t) in tensors { communicator.broadcast(t.data, count: t.count, root: 0) }
    }

    /// A fingerprint of the names and shapes, for checking that all ranks built the same model.
    public static func shapeSignature(_ tensors: [(name: String, tensor: Tensor)]) -> String {
        tensors.map { "\($0.name):\($0.tensor.shape)" }.joined(separator: ";")
    }
}
