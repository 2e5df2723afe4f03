/// y = x·Wᵀ + b, with W stored [outFeatures][inFeatures] (PyTorch's layout).
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input: Tensor?
    private var output: Tensor?
    private var gradInput: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        // PyTorch's default: U(−1/√fan_in, 1/√fan_in) for weight and bias.
        let bound = 1 / Float(inFeatures).squareRoot()
        let w = Tensor(shape: [outFeatures, inFeatures])
        for i in 0..<w.count { w[i] = (rng.uniform() * 2 - 1) * bound }
        weight = Parameter(w, decays: true)
        if bias {
            let b = Tensor(shape: [outFeatures])
            for i in 0..<b.count { b[i] = (rng.uniform() * 2 - 1) * bound }
            self.bias = Parameter(b, decays: false)
        } else {
            self.bias = nil
        }
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        let batch = x.rows
        precondition(x.columns == inFeatures, "Linear(\(inFeatures)→\(outFeatures)) got input \(x.shape)")
        input = x
        let y = Tensor.reuse(&output, shape: [batch, outFeatures])
        if let bias {
            for row in 0..<batch { (y.data + row * outFeatures).update(from: bias.value.data, count: outFeatures) }
        }
        gemm(x.data, weight.value.data, transposeB: true, y.data, m: batch, n: outFeatures, k: inFeatures, beta: bias == nil ? 0 : 1)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let batch = x.rows
        // dW += dyᵀ·x ; db += Σ_rows dy ; dx = dy·W
        gemm(dy.data, transposeA: true, x.data, weight.gradient.data, m: outFeatures, n: inFeatures, k: batch, beta: 1)
        if let bias {
            let db = bias.gradient.data
            for row in 0..<batch {
                let r = dy.data + row * outFeatures
                for o in 0..<outFeatures { db[o] += r[o] }
            }
        }
        let dx = Tensor.reuse(&gradInput, shape: x.shape)
        gemm(dy.data, weight.value.data, dx.data, m: batch, n: inFeatures, k: outFeatures)
        return dx
    }
}
