/// y = relu(bn(x) + r) from the plain-layout `BatchNorm`: the oracle for `BlockedBatchNorm`.
public final class ReferenceNormActivation: NormActivation {
    public let norm: BatchNorm
    public let relu: Bool
    private var output: Tensor?
    private var maskedGradient: Tensor?
    private var hadResidual = false
    public private(set) var residualGradient: Tensor?

    public init(_ norm: BatchNorm, relu: Bool) {
        self.norm = norm
        self.relu = relu
    }

    public var gamma: Parameter { norm.gamma }
    public var parameters: [(name: String, parameter: Parameter)] { norm.parameters }
    public var buffers: [(name: String, tensor: Tensor)] { norm.buffers }

    public func forward(_ x: Tensor, residual: Tensor?, _ pass: Pass) -> Tensor {
        let z = norm.forward(x, pass)
        let y = Tensor.reuse(&output, shape: x.shape)
        hadResidual = residual != nil
        for i in 0..<y.count {
            let v = z[i] + (residual?[i] ?? 0)
            y[i] = relu ? max(v, 0) : v
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("ReferenceNormActivation.backward before forward") }
        let g = Tensor.reuse(&maskedGradient, shape: dy.shape)
        for i in 0..<g.count { g[i] = relu && y[i] <= 0 ? 0 : dy[i] }
        residualGradient = hadResidual ? g : nil
        return norm.backward(g)
    }
}

/// Mean over each channel's plane: N×C×H×W (plain) → N×C.
public final class GlobalAveragePool: Layer {
    private var inputShape: [Int] = []
    private var output: Tensor?
    private var gradInput: Tensor?

    public init() {}

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        let y = Tensor.reuse(&output, shape: [x.shape[0], x.shape[1]])
        for p in 0..<planes {
            var s: Float = 0
            for i in 0..<plane { s += x.data[p * plane + i] }
            y[p] = s / Float(plane)
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = Tensor.reuse(&gradInput, shape: inputShape)
        let plane = inputShape[2] * inputShape[3]
        for p in 0..<dy.count { (dx.data + p * plane).update(repeating: dy[p] / Float(plane), count: plane) }
        return dx
    }
}
