/// [batch, d1, d2, …] → [batch, d1·d2·…]. Shares storage with its input.
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    public init() {}

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        inputShape = x.shape
        let y = Tensor(shape: [x.rows, x.columns])
        y.copy(from: x)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = Tensor(shape: inputShape)
        dx.copy(from: dy)
        return dx
    }
}
