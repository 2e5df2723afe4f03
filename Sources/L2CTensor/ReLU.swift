/// y = max(x, 0).
public final class ReLU: Layer {
    private var output: Tensor?
    private var gradInput: Tensor?
    public init() {}

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        let y = Tensor.reuse(&output, shape: x.shape)
        let src = x.data, dst = y.data
        for i in 0..<x.count { dst[i] = max(src[i], 0) }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("ReLU.backward before forward") }
        let dx = Tensor.reuse(&gradInput, shape: y.shape)
        let g = dy.data, out = y.data, d = dx.data
        for i in 0..<y.count { d[i] = out[i] > 0 ? g[i] : 0 }
        return dx
    }
}
