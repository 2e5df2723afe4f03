/// [batch, d1, d2, …] → [batch, d1·d2·…].
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    private var output: Tensor?
    private var gradInput: Tensor?
    public init() {}

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        inputShape = x.shape
        let y = Tensor.reuse(&output, shape: [x.rows, x.columns])
        y.copy(from: x)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = Tensor.reuse(&gradInput, shape: inputShape)
        dx.copy(from: dy)
        return dx
    }
}
