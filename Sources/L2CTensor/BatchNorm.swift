import L2CComm

/// Batch normalisation over dimension 1 of [batch, features] (1-d) or [batch, channels, height, width] (2-d).
///
/// Training: y = γ·(x − μ)/√(σ² + ε) + β with μ, σ² the biased statistics of the *global* batch: the per-rank
/// sums are all-reduced (two passes: Σx, then Σ(x − μ)²), so R ranks × B normalise exactly as 1 rank × R·B.
/// Backward needs the global Σdy and Σdy·x̂ as well:
///   dx = γ/√(σ² + ε) · (dy − mean(dy) − x̂·mean(dy·x̂)),
/// while dγ = Σ dy·x̂ and dβ = Σ dy are accumulated over the local rows only (the trainer all-reduces parameter
/// gradients). Running statistics: r ← (1−m)·r + m·stat, with the unbiased variance, as PyTorch does.
/// Evaluation uses the running statistics. `communicator == nil` keeps per-rank statistics.
public final class BatchNorm: Layer {
    public let features: Int
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public var communicator: (any Communicator)?
    private var normalized: Tensor?
    private var inverseStd: [Float] = []
    private var usedBatchStatistics = true
    private var output: Tensor?
    private var gradInput: Tensor?

    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, communicator: (any Communicator)?) {
        self.features = features
        self.epsilon = epsilon
        self.momentum = momentum
        self.communicator = communicator
        let g = Tensor(shape: [features]); g.fill(1)
        gamma = Parameter(g, decays: false)
        beta = Parameter(Tensor(shape: [features]), decays: false)
        runningMean = Tensor(shape: [features])
        runningVariance = Tensor(shape: [features]); runningVariance.fill(1)
    }

    public var parameters: [(name: String, parameter: Parameter)] { [("weight", gamma), ("bias", beta)] }
    public var buffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }

    /// Elements per feature per sample: 1 for 1-d, height·width for 2-d.
    private func spatial(_ x: Tensor) -> Int { x.shape.dropFirst(2).reduce(1, *) }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        precondition(x.shape.count >= 2 && x.shape[1] == features, "BatchNorm(\(features)) got input \(x.shape)")
        let batch = x.shape[0], plane = spatial(x)
        let y = Tensor.reuse(&output, shape: x.shape)
        var mean = [Float](repeating: 0, count: features)
        var variance = [Float](repeating: 0, count: features)
        if pass.training {
            // Pass 1: Σx per feature and the element count, all-reduced.
            var sums = [Double](repeating: 0, count: features + 1)
            forEachPlane(batch, plane) { f, p in
                var s: Double = 0
                for i in 0..<plane { s += Double(x.data[p + i]) }
                sums[f] += s
            }
            sums[features] = Double(batch * plane)
            sums.withUnsafeMutableBufferPointer { communicator?.allReduceSum($0.baseAddress!, count: features + 1) }
            let total = sums[features]
            for f in 0..<features { mean[f] = Float(sums[f] / total) }
            // Pass 2: Σ(x − μ)² per feature, all-reduced.
            var squares = [Double](repeating: 0, count: features)
            forEachPlane(batch, plane) { f, p in
                var s: Double = 0
                let m = mean[f]
                for i in 0..<plane { let d = Double(x.data[p + i] - m); s += d * d }
                squares[f] += s
            }
            squares.withUnsafeMutableBufferPointer { communicator?.allReduceSum($0.baseAddress!, count: features) }
            for f in 0..<features {
                variance[f] = Float(squares[f] / total)
                let unbiased = total > 1 ? Float(squares[f] / (total - 1)) : variance[f]
                if !pass.keepsRunningStatistics {
                    runningMean[f] = (1 - momentum) * runningMean[f] + momentum * mean[f]
                    runningVariance[f] = (1 - momentum) * runningVariance[f] + momentum * unbiased
                }
            }
        } else {
            for f in 0..<features { mean[f] = runningMean[f]; variance[f] = runningVariance[f] }
        }
        usedBatchStatistics = pass.training
        inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let xhat = Tensor.reuse(&normalized, shape: x.shape)
        forEachPlane(batch, plane) { f, p in
            let m = mean[f], s = inverseStd[f], g = gamma.value[f], b = beta.value[f]
            for i in 0..<plane {
                let n = (x.data[p + i] - m) * s
                xhat.data[p + i] = n
                y.data[p + i] = g * n + b
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let xhat = normalized else { preconditionFailure("BatchNorm.backward before forward") }
        let batch = dy.shape[0], plane = spatial(dy)
        // Local Σdy and Σdy·x̂ per feature; the global ones (all-reduced) form dx.
        var sums = [Double](repeating: 0, count: 2 * features + 1)
        forEachPlane(batch, plane) { f, p in
            var sdy: Double = 0, sdyx: Double = 0
            for i in 0..<plane {
                let g = Double(dy.data[p + i])
                sdy += g
                sdyx += g * Double(xhat.data[p + i])
            }
            sums[f] += sdy
            sums[features + f] += sdyx
        }
        for f in 0..<features {
            beta.gradient[f] += Float(sums[f])
            gamma.gradient[f] += Float(sums[features + f])
        }
        sums[2 * features] = Double(batch * plane)
        if usedBatchStatistics {
            sums.withUnsafeMutableBufferPointer { communicator?.allReduceSum($0.baseAddress!, count: 2 * features + 1) }
        }
        let total = sums[2 * features]
        let dx = Tensor.reuse(&gradInput, shape: dy.shape)
        forEachPlane(batch, plane) { f, p in
            // With running statistics μ and σ are constants: dx = γ/√(σ² + ε)·dy.
            let meanDy = usedBatchStatistics ? Float(sums[f] / total) : 0
            let meanDyX = usedBatchStatistics ? Float(sums[features + f] / total) : 0
            let scale = gamma.value[f] * inverseStd[f]
            for i in 0..<plane {
                dx.data[p + i] = scale * (dy.data[p + i] - meanDy - xhat.data[p + i] * meanDyX)
            }
        }
        return dx
    }

    /// Calls body(feature, offset of that feature's plane in sample n) for every sample and feature.
    @inline(__always)
    private func forEachPlane(_ batch: Int, _ plane: Int, _ body: (Int, Int) -> Void) {
        for n in 0..<batch {
            for f in 0..<features { body(f, (n * features + f) * plane) }
        }
    }
}
