import L2CComm

/// BatchNorm (+ residual, + ReLU) on blocked activations, with batch statistics summed over ranks.
///
/// A channel block (8 or 16 channels) sits side by side at every pixel, so each kernel is a SIMD loop over
/// one (sample, channel-block) plane. Forward: Σx and Σx² per channel (Float within 256 pixels, Double
/// across), one all-reduce, then y = relu(a·x + b + r) with a = γ/√(σ²+ε), b = β − μ·a. Backward with
/// g = dy·[y > 0]: Σg and Σg·x, one all-reduce, then dx = a·g + c₁ + c₂·x, where x̂ = (x−μ)/σ,
/// c₂ = −a·Σ(g·x̂)/(σ·N), c₁ = −a·Σg/N − c₂·μ. Without a communicator each rank keeps its own statistics.
/// A bf16 input (a bf16 ResNet's convolution output) gives a bf16 output and input gradient: the statistics and
/// all arithmetic stay fp32, only the stored activations and gradients are bf16.
public final class BlockedBatchNorm: NormActivation {
    public let channels: Int
    public let relu: Bool
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public var communicator: (any Communicator)?
    private let pool: TensorPool
    private var input: Tensor?
    private var output: Tensor?
    private var hadResidual = false
    private var usedBatchStatistics = false
    private var total: Double = 0
    private var mean: [Float]
    private var inverseStd: [Float]
    private var sums: UnsafeMutableBufferPointer<Double> = .allocate(capacity: 0)
    public private(set) var residualGradient: Tensor?

    public init(_ channels: Int, relu: Bool, epsilon: Float = 1e-5, momentum: Float = 0.1,
                communicator: (any Communicator)?, pool: TensorPool) {
        precondition(channels % ActivationLayout.channelMultiple == 0, "BlockedBatchNorm needs a multiple of 16 channels, got \(channels)")
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

    deinit { sums.deallocate() }

    public var parameters: [(name: String, parameter: Parameter)] { [("weight", gamma), ("bias", beta)] }
    public var buffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVariance)] }

    public func forward(_ x: Tensor, residual: Tensor?, _ pass: Pass) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == channels, "BlockedBatchNorm(\(channels)) got input \(x.shape)")
        precondition(residual == nil || (residual!.shape == x.shape && residual!.element == x.element),
                     "residual \(residual!) does not match \(x)")
        precondition(x.element == .float32 || ActivationLayout.channelBlock == 16, "bf16 BatchNorm needs 16-channel blocks")
        let bf16 = x.element == .bfloat16
        input = x
        hadResidual = residual != nil
        usedBatchStatistics = pass.training
        let geometry = BlockGeometry(x.shape)
        if pass.training {
            let s = sumBuffer(2 * channels + 1, workers: geometry.workers)
            if bf16 {
                BF16NormKernels.sums(x, geometry, s.base, width: s.width)
            } else if geometry.wide {
                SIMD16<Float>.sumsForward(x.data, geometry, s.base, width: s.width)
            } else {
                SIMD8<Float>.sumsForward(x.data, geometry, s.base, width: s.width)
            }
            s.base[2 * channels] = Double(x.shape[0] * geometry.pixels)
            communicator?.allReduceSum(s.base, count: 2 * channels + 1)
            total = s.base[2 * channels]
            for c in 0..<channels {
                let m = s.base[c] / total
                let variance = max(s.base[channels + c] / total - m * m, 0)
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
        // Without ReLU, backward does not need y: it comes from the pool, for a caller to give back once used.
        let y = relu ? Tensor.reuse(&output, shape: x.shape, element: x.element) : pool.take(x.shape, element: x.element)
        output = y
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                if bf16 {
                    BF16NormKernels.normalize(x, residual, y, scale.baseAddress!, shift.baseAddress!, relu: relu, geometry)
                } else if geometry.wide {
                    SIMD16<Float>.normalize(x.data, residual?.data, y.data, scale.baseAddress!, shift.baseAddress!, relu: relu, geometry)
                } else {
                    SIMD8<Float>.normalize(x.data, residual?.data, y.data, scale.baseAddress!, shift.baseAddress!, relu: relu, geometry)
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let y = output else { preconditionFailure("BlockedBatchNorm.backward before forward") }
        precondition(dy.element == x.element, "BlockedBatchNorm: gradient \(dy) for input \(x)")
        let geometry = BlockGeometry(x.shape)
        let bf16 = x.element == .bfloat16
        let dx = pool.take(x.shape, element: x.element)
        // g = dy masked by the ReLU, stored where the second pass reads it: dL/dr, or dx itself (fp32; bf16 recomputes it).
        let g = hadResidual ? pool.take(x.shape, element: x.element) : dx
        residualGradient = hadResidual ? g : nil
        let s = sumBuffer(2 * channels, workers: geometry.workers)
        if bf16 {
            BF16NormKernels.backwardSums(x, relu ? y : nil, dy, residualGradient: residualGradient, geometry, s.base, width: s.width)
        } else if geometry.wide {
            SIMD16<Float>.sumsBackward(x.data, y.data, dy.data, g.data, masked: relu, geometry, s.base, width: s.width)
        } else {
            SIMD8<Float>.sumsBackward(x.data, y.data, dy.data, g.data, masked: relu, geometry, s.base, width: s.width)
        }
        if usedBatchStatistics { communicator?.allReduceSum(s.base, count: 2 * channels) }
        var c1 = [Float](repeating: 0, count: channels), c2 = c1, a = c1
        for c in 0..<channels {
            let sumG = s.base[c]
            // Σg·x̂ = (Σg·x − μ·Σg)/σ
            let sumGX = (s.base[channels + c] - Double(mean[c]) * sumG) * Double(inverseStd[c])
            beta.gradient[c] += Float(sumG)
            gamma.gradient[c] += Float(sumGX)
            a[c] = gamma.value[c] * inverseStd[c]
            if usedBatchStatistics {
                c2[c] = Float(-Double(a[c]) * sumGX * Double(inverseStd[c]) / total)
                c1[c] = Float(-Double(a[c]) * sumG / total) - c2[c] * mean[c]
            }
        }
        a.withUnsafeBufferPointer { a in c1.withUnsafeBufferPointer { c1 in c2.withUnsafeBufferPointer { c2 in
            if bf16 {
                BF16NormKernels.inputGradient(x, relu ? y : nil, dy, dx, a.baseAddress!, c1.baseAddress!, c2.baseAddress!, geometry)
            } else if geometry.wide {
                SIMD16<Float>.affineGradient(g.data, x.data, dx.data, a.baseAddress!, c1.baseAddress!, c2.baseAddress!, geometry)
            } else {
                SIMD8<Float>.affineGradient(g.data, x.data, dx.data, a.baseAddress!, c1.baseAddress!, c2.baseAddress!, geometry)
            }
        }}}
        pool.give(dy)
        return dx
    }

    /// Per-worker partial sums (`width` apart), zeroed; the kernels leave the total in the first `width`.
    private func sumBuffer(_ width: Int, workers: Int) -> (base: UnsafeMutablePointer<Double>, width: Int) {
        if sums.count < width * workers {
            sums.deallocate()
            sums = .allocate(capacity: width * workers)
        }
        sums.baseAddress!.update(repeating: 0, count: width * workers)
        return (sums.baseAddress!, width)
    }
}

/// Where the planes of a blocked N×C×H×W tensor are: plane p = (sample, channel block), `pixels` vectors each.
struct BlockGeometry {
    let planes: Int
    let blocks: Int
    let pixels: Int

    init(_ shape: [Int]) {
        blocks = shape[1] / ActivationLayout.channelBlock
        planes = shape[0] * blocks
        pixels = shape[2] * shape[3]
    }

    var workers: Int { max(min(ComputeThreads.count, planes), 1) }

    /// 16-channel blocks (AVX-512 machines) rather than 8.
    var wide: Bool { ActivationLayout.channelBlock == 16 }
}

/// The kernels of `BlockedBatchNorm`, for one block width (SIMD8 or SIMD16 of Float).
protocol BlockVector: SIMD where Scalar == Float {}
extension SIMD8: BlockVector where Scalar == Float {}
extension SIMD16: BlockVector where Scalar == Float {}

extension BlockVector {
    @inline(__always) static func at(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Self> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Self.self)
    }
    @inline(__always) static func at(_ p: UnsafePointer<Float>) -> UnsafeMutablePointer<Self> {
        UnsafeMutableRawPointer(mutating: p).assumingMemoryBound(to: Self.self)
    }

    /// Adds two per-channel sums over all planes into `sums` (Σ₁ at [c], Σ₂ at [channels + c]);
    /// `pixel(i, &s1, &s2)` accumulates vector i. Workers write their own rows, merged at the end.
    @inline(__always)
    static func channelSums(_ g: BlockGeometry, _ sums: UnsafeMutablePointer<Double>, width: Int,
                            _ pixel: (Int, inout Self, inout Self) -> Void) {
        let channels = g.blocks * scalarCount
        parallelRanges(g.planes) { range, worker in
            let mine = sums + worker * width
            for plane in range {
                let c0 = (plane % g.blocks) * scalarCount
                var p0 = 0
                while p0 < g.pixels {
                    var s1 = Self(), s2 = Self()
                    for p in p0..<Swift.min(p0 + 256, g.pixels) { pixel(plane * g.pixels + p, &s1, &s2) }
                    for j in 0..<scalarCount {
                        mine[c0 + j] += Double(s1[j])
                        mine[channels + c0 + j] += Double(s2[j])
                    }
                    p0 += 256
                }
            }
        }
        for w in 1..<g.workers {
            for i in 0..<width { sums[i] += sums[w * width + i] }
        }
    }

    static func sumsForward(_ x: UnsafeMutablePointer<Float>, _ g: BlockGeometry, _ sums: UnsafeMutablePointer<Double>, width: Int) {
        let xs = at(x)
        channelSums(g, sums, width: width) { i, s1, s2 in
            let v = xs[i]
            s1 += v
            s2 += v * v
        }
    }

    /// y = relu(a·x + b + r). ReLU by the sign bit (branch-free, so it vectorises whatever the data):
    /// v & ~(v >> 31) is +0 for every negative v.
    static func normalize(_ x: UnsafeMutablePointer<Float>, _ residual: UnsafeMutablePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                          _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>, relu: Bool, _ g: BlockGeometry) {
        let lanes = scalarCount
        parallelRanges(g.planes) { range, _ in
            for plane in range {
                let a = scale + (plane % g.blocks) * lanes, b = shift + (plane % g.blocks) * lanes
                let base = plane * g.pixels * lanes
                let (xp, yp) = (x + base, y + base)
                let rp = residual.map { $0 + base }
                for p in 0..<g.pixels {
                    for j in 0..<lanes {
                        let i = p * lanes + j
                        let v = a[j] * xp[i] + b[j] + (rp?[i] ?? 0)
                        yp[i] = relu ? rectified(v) : v
                    }
                }
            }
        }
    }

    static func sumsBackward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
                             _ gradient: UnsafeMutablePointer<Float>, masked: Bool, _ g: BlockGeometry,
                             _ sums: UnsafeMutablePointer<Double>, width: Int) {
        let (xs, gs) = (at(x), at(gradient))
        let lanes = scalarCount
        channelSums(g, sums, width: width) { i, s1, s2 in
            let (d, out, m) = (dy + i * lanes, y + i * lanes, gradient + i * lanes)
            for j in 0..<lanes { m[j] = masked ? passedBy(out[j], d[j]) : d[j] }
            let v = gs[i]
            s1 += v
            s2 += v * xs[i]
        }
    }

    static func affineGradient(_ gradient: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                               _ a: UnsafePointer<Float>, _ c1: UnsafePointer<Float>, _ c2: UnsafePointer<Float>, _ g: BlockGeometry) {
        let (gs, xs, dxs, av, c1v, c2v) = (at(gradient), at(x), at(dx), at(a), at(c1), at(c2))
        parallelRanges(g.planes) { range, _ in
            for plane in range {
                let k = plane % g.blocks
                let (ak, c1k, c2k) = (av[k], c1v[k], c2v[k])
                for p in (plane * g.pixels)..<((plane + 1) * g.pixels) { dxs[p] = ak * gs[p] + c1k + c2k * xs[p] }
            }
        }
    }
}

/// max(v, 0) by the sign bit: +0 for every negative v (and −0).
@inline(__always) func rectified(_ v: Float) -> Float {
    let bits = v.bitPattern
    return Float(bitPattern: bits & ~UInt32(bitPattern: Int32(bitPattern: bits) >> 31))
}

/// d where the ReLU output y (≥ +0) is positive, else 0: branch-free, from y's bits (0 − bits < 0 ⇔ y > 0).
@inline(__always) func passedBy(_ y: Float, _ d: Float) -> Float {
    let mask = UInt32(bitPattern: (0 &- Int32(bitPattern: y.bitPattern)) >> 31)
    return Float(bitPattern: d.bitPattern & mask)
}
