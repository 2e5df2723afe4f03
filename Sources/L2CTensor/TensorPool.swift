/// Gradient buffers shared by the layers of one network during backward.
///
/// A layer's backward takes its dL/d(input) buffer from the pool and gives back the dL/d(output) it was
/// handed, so a deep network holds a few activation-sized gradients at a time instead of one per layer.
/// Tensors the pool did not hand out (a head's own gradient buffer) are never taken into it.
public final class TensorPool {
    /// Idle tensors by byte size.
    private var free: [Int: [Tensor]] = [:]
    private var issued: Set<ObjectIdentifier> = []
    private var idle: Set<ObjectIdentifier> = []

    public init() {}

    /// A tensor of `shape` and `element` with unspecified contents.
    public func take(_ shape: [Int], element: TensorElement = .float32) -> Tensor {
        let key = TensorPool.key(shape.reduce(1, *), element)
        if let t = free[key]?.popLast() {
            idle.remove(ObjectIdentifier(t))
            t.reshape(shape)
            return t
        }
        let t = Tensor(shape: shape, element: element)
        issued.insert(ObjectIdentifier(t))
        return t
    }

    /// Returns a tensor this pool handed out; anything else is ignored.
    public func give(_ t: Tensor) {
        let id = ObjectIdentifier(t)
        guard issued.contains(id), !idle.contains(id) else { return }
        idle.insert(id)
        free[TensorPool.key(t.count, t.element), default: []].append(t)
    }

    private static func key(_ count: Int, _ element: TensorElement) -> Int { 2 * count + (element == .bfloat16 ? 1 : 0) }
}
