/// Gradient buffers shared by the layers of one network during backward.
///
/// A layer's backward takes its dL/d(input) buffer from the pool and gives back the dL/d(output) it was
/// handed, so a deep network holds a few activation-sized gradients at a time instead of one per layer.
/// Tensors the pool did not hand out (a head's own gradient buffer) are never taken into it.
public final class TensorPool {
    private var free: [Int: [Tensor]] = [:]
    private var issued: Set<ObjectIdentifier> = []
    private var idle: Set<ObjectIdentifier> = []

    public init() {}

    /// A tensor of `shape` with unspecified contents.
    public func take(_ shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        if let t = free[count]?.popLast() {
            idle.remove(ObjectIdentifier(t))
            t.reshape(shape)
            return t
        }
        let t = Tensor(shape: shape)
        issued.insert(ObjectIdentifier(t))
        return t
    }

    /// Returns a tensor this pool handed out; anything else is ignored.
    public func give(_ t: Tensor) {
        let id = ObjectIdentifier(t)
        guard issued.contains(id), !idle.contains(id) else { return }
        idle.insert(id)
        free[t.count, default: []].append(t)
    }
}
