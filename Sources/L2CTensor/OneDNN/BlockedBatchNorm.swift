import L2CComm

/// BatchNorm (+ residual, + ReLU) on blocked nChw16c activations, with batch statistics summed over ranks.
///
/// Sixteen channels sit side by side at every pixel, so each kernel is a SIMD16 loop over one (sample,
/// channel-block) plane. Forward: Σx and Σx² per channel (Float within 256 pixels, Double across), one
/// all-reduce, then y = relu(a·x + b + r) with a = γ/√(σ²+ε), b = β − μ·a. Backward with g = dy·[y > 0]:
/// Σg and Σg·x, one all-reduce, then dx = a·g + c₁ + c₂·x, where x̂ = (x−μ)/σ,
/// c₂ = −a·Σ(g·x̂)/(σ·N), c₁ = −a·Σg/N − c₂·μ. Without a communicator each rank keeps its own statistics.
public final class BlockedBatchNorm: NormActivation {
    public let channels: Int
    public let relu: Bool
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public weak var communicator: (any Communicator)?
    private let pool: TensorPool
    private var input: Tensor?
    private var output: Tensor?
    private var hadResidual = false
    private var usedBatchStatistics = false
    private var total: Double = 0
    private var mean: [Float]
    private var inverseStd: [Float]
    private var scratch: UnsafeMutableBufferPointer<Double> = .allocate(capacity: 0)
    public private(set) var residualGradient: Tensor?

    public init(_ channels: Int, relu: Bool, epsilon: Float = 1e-5, momentum: Float = 0.1,
                communicator: (any Communicator)?, pool: TensorPool) {
        precondition(channels % ActivationLayout.channelBlock == 0, "BlockedBatchNorm needs a multiple of 16 channels, got \(channels)")
        self.channels = channels
        self.relu = relu
        self.epsilon = epsilon
        self.momentum = momentum
        gamma = Parameter(Tensor(shape: [channels], values: [Float](repeating: 1, count: channels)), decays: false)
        beta = Parameter(Tensor(shape: [channels]), decays: false)
        runningMean = Tensor(shape: [channels])
        runningVariance = Tensor(shape: [channels], values: [Float](repeating: 1, count: channels))
        self.communicator = communicator
        self.pool = pool
        mean = [Float](repeating: 0, count: channels)
        inverseStd = [Float](repeating: 1, count: channels)
    }

    public var parameters: [(name: String, parameter: Parameter)] { [("weight", gamma), ("bias", beta)] }
    public var buffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }

    private var blocks: Int { channels / 16 }

    public func forward(_ x: Tensor, residual: Tensor?, _ pass: Pass) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == channels, "BlockedBatchNorm(\(channels)) got input \(x.shape)")
        precondition(residual == nil || residual!.shape == x.shape, "residual \(residual!.shape) does not match \(x.shape)")
        input = x
        hadResidual = residual != nil
        let planes = x.shape[0] * blocks, pixels = x.shape[2] * x.shape[3]
        usedBatchStatistics = pass.training
        if pass.training {
            // sums = [Σx per channel, Σx² per channel, element count]
            let sums = channelSums(planes: planes, pixels: pixels) { plane, p, s1, s2 in
                let v = SIMD16Pointer(x.data)[plane * pixels + p]
                s1 += v
                s2 += v * v
            }
            sums[2 * channels] = Double(x.shape[0] * pixels)
            communicator?.allReduceSum(sums, count: 2 * channels + 1)
            total = sums[2 * channels]
            for c in 0..<channels {
                let m = sums[c] / total
                let variance = max(sums[channels + c] / total - m * m, 0)
                mean[c] = Float(m)
                inverseStd[c] = 1 / Float(variance + Double(epsilon)).squareRoot()
                if !pass.keepsRunningStatistics {
                    let unbiased = total > 1 ? variance * total / (total - 1) : variance
                    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * Float(m)
                    runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * Float(unbiased)
                }
            }
        } else {
            for c in 0..<channels {
                mean[c] = runningMean[c]
                inverseStd[c] = 1 / (runningVariance[c] + epsilon).squareRoot()
            }
        }
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = gamma.value[c] * inverseStd[c]
            shift[c] = beta.value[c] - mean[c] * scale[c]
        }
        let y = Tensor.reuse(&output, shape: x.shape)
        let (xs, ys) = (SIMD16Pointer(x.data), SIMD16Pointer(y.data))
        let rs = residual.map { SIMD16Pointer($0.data) }
        let floor: Float = relu ? 0 : -.infinity
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                let (sv, bv) = (SIMD16Pointer(scale), SIMD16Pointer(shift))
                parallelRanges(planes) { range, _ in
                    for plane in range {
                        let a = sv[plane % blocks], b = bv[plane % blocks]
                        let base = plane * pixels
                        if let rs {
                            for p in base..<(base + pixels) { let v = a * xs[p] + b + rs[p]; ys[p] = v.replacing(with: floor, where: v .< floor) }
                        } else {
                            for p in base..<(base + pixels) { let v = a * xs[p] + b; ys[p] = v.replacing(with: floor, where: v .< floor) }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let y = output else { preconditionFailure("BlockedBatchNorm.backward before forward") }
        let planes = x.shape[0] * blocks, pixels = x.shape[2] * x.shape[3]
        let dx = pool.take(x.shape)
        // g = dy masked by the ReLU, stored where pass 2 reads it: dL/dr, or dx itself.
        let g = hadResidual ? pool.take(x.shape) : dx
        residualGradient = hadResidual ? g : nil
        let (xs, ys, dys, gs) = (SIMD16Pointer(x.data), SIMD16Pointer(y.data), SIMD16Pointer(dy.data), SIMD16Pointer(g.data))
        let masks = relu
        // sums = [Σg per channel, Σg·x per channel]
        let sums = channelSums(planes: planes, pixels: pixels) { plane, p, s1, s2 in
            let i = plane * pixels + p
            var v = dys[i]
            if masks { v.replace(with: 0, where: ys[i] .<= 0) }
            gs[i] = v
            s1 += v
            s2 += v * xs[i]
        }
        var c1 = [Float](repeating: 0, count: channels), c2 = c1, a = c1
        if usedBatchStatistics { communicator?.allReduceSum(sums, count: 2 * channels) }
        for c in 0..<channels {
            let sumG = sums[c]
            // Σg·x̂ = (Σg·x − μ·Σg)/σ
            let sumGX = (sums[channels + c] - Double(mean[c]) * sumG) * Double(inverseStd[c])
            beta.gradient[c] += Float(sumG)
            gamma.gradient[c] += Float(sumGX)
            a[c] = gamma.value[c] * inverseStd[c]
            if usedBatchStatistics {
                c2[c] = Float(-Double(a[c]) * sumGX * Double(inverseStd[c]) / total)
                c1[c] = Float(-Double(a[c]) * sumG / total) - c2[c] * mean[c]
            }
        }
        let dxs = SIMD16Pointer(dx.data)
        a.withUnsafeBufferPointer { a in c1.withUnsafeBufferPointer { c1 in c2.withUnsafeBufferPointer { c2 in
            let (av, c1v, c2v) = (SIMD16Pointer(a), SIMD16Pointer(c1), SIMD16Pointer(c2))
            parallelRanges(planes) { range, _ in
                for plane in range {
                    let k = plane % blocks
                    let (ak, c1k, c2k) = (av[k], c1v[k], c2v[k])
                    for p in (plane * pixels)..<((plane + 1) * pixels) { dxs[p] = ak * gs[p] + c1k + c2k * xs[p] }
                }
            }
        }}}
        pool.give(dy)
        return dx
    }

    /// Two per-channel sums over all planes, in Double: `body(plane, pixel, &s1, &s2)` adds one pixel's
    /// 16 channels. Returns a buffer of 2·channels + 1 (the last slot free for the caller).
    private func channelSums(planes: Int, pixels: Int,
                             _ body: (Int, Int, inout SIMD16<Float>, inout SIMD16<Float>) -> Void) -> UnsafeMutablePointer<Double> {
        let workers = max(min(ComputeThreads.count, planes), 1)
        let width = 2 * channels + 1
        if scratch.count != width * workers {
            scratch.deallocate()
            scratch = .allocate(capacity: width * workers)
        }
        let blocks = self.blocks, channels = self.channels
        let base = scratch.baseAddress!
        base.update(repeating: 0, count: scratch.count)
        do {
            parallelRanges(planes) { range, worker in
                let sums = base + worker * width
                for plane in range {
                    let c0 = (plane % blocks) * 16
                    var p0 = 0
                    while p0 < pixels {
                        var s1 = SIMD16<Float>(), s2 = SIMD16<Float>()
                        for p in p0..<min(p0 + 256, pixels) { body(plane, p, &s1, &s2) }
                        for j in 0..<16 {
                            sums[c0 + j] += Double(s1[j])
                            sums[channels + c0 + j] += Double(s2[j])
                        }
                        p0 += 256
                    }
                }
            }
            for w in 1..<workers {
                for i in 0..<width { base[i] += base[w * width + i] }
            }
        }
        return base
    }

    deinit { scratch.deallocate() }
}

/// A float buffer seen as SIMD16 vectors (64-byte aligned: tensors and channel blocks are).
struct SIMD16Pointer {
    let base: UnsafeMutablePointer<SIMD16<Float>>
    init(_ p: UnsafeMutablePointer<Float>) { base = UnsafeMutableRawPointer(p).assumingMemoryBound(to: SIMD16<Float>.self) }
    init(_ p: UnsafeBufferPointer<Float>) { base = UnsafeMutableRawPointer(mutating: p.baseAddress!).assumingMemoryBound(to: SIMD16<Float>.self) }
    @inline(__always) subscript(i: Int) -> SIMD16<Float> {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
