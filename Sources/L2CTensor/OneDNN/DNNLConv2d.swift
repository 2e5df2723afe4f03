import CDNNL

/// 2-D convolution (no bias) by oneDNN on blocked activations: forward, backward-data, backward-weights.
///
/// The weight parameter stays in plain [out][in][k][k] layout, so that optimisers, gradient all-reduce and
/// checkpoints see the same tensor as `Conv2d`; it is reordered once per pass into the blocked layout the
/// chosen kernels want (a few MB per step), and the blocked weight gradient is reordered back and added.
/// Input is plain NCHW (a network's first layer) or blocked; output is always blocked. In bf16 precision the
/// output and both gradients are bf16 tensors (the input may be the fp32 image).
public final class DNNLConv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let inputLayout: ActivationLayout
    /// A network's first convolution skips backward-data: nothing consumes dL/d(image).
    public let computesInputGradient: Bool
    public let weight: Parameter
    /// The arithmetic asked for; a shape oneDNN has no native bf16 kernel for runs fp32 (`runsBF16` says which).
    public let precision: Precision
    private let pool: TensorPool
    private let scratch: ConvolutionScratch
    private var plan: (any ConvolutionKernels)?
    private var input: Tensor?
    private var output: Tensor?
    private var emptyGradient: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                inputLayout: ActivationLayout = .blocked, computesInputGradient: Bool = true,
                weight: Tensor, pool: TensorPool, scratch: ConvolutionScratch = ConvolutionScratch(), precision: Precision = .fp32) {
        precondition(weight.shape == [outChannels, inChannels, kernel, kernel], "conv weight \(weight.shape)")
        precondition(outChannels % ActivationLayout.channelMultiple == 0, "DNNLConv2d writes blocked output: \(outChannels) channels is not a multiple of 16")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.inputLayout = inputLayout
        self.computesInputGradient = computesInputGradient
        self.weight = Parameter(weight, decays: true)
        self.pool = pool
        self.scratch = scratch
        self.precision = precision
    }

    /// Whether the last planned shape runs on bf16 kernels.
    public var runsBF16: Bool { plan is BF16ConvolutionPlan }

    public var parameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    public func outputSize(_ inputSize: Int) -> Int { (inputSize + 2 * padding - kernel) / stride + 1 }

    private func planFor(_ x: Tensor) -> any ConvolutionKernels {
        if let plan, plan.inputShape == x.shape, plan.inputElement == x.element { return plan }
        let outputShape = [x.shape[0], outChannels, outputSize(x.shape[2]), outputSize(x.shape[3])]
        precondition(precision == .bf16 || x.element == .float32, "an fp32 convolution got \(x)")
        let fp32 = { ConvolutionPlan(inputShape: x.shape, outputShape: outputShape, weightShape: self.weight.value.shape, stride: self.stride,
                                     padding: self.padding, inputLayout: self.inputLayout, backwardData: self.computesInputGradient, scratch: self.scratch) }
        let p: any ConvolutionKernels
        if precision == .bf16 {
            p = BF16ConvolutionPlan.make(inputShape: x.shape, outputShape: outputShape, weightShape: weight.value.shape, stride: stride,
                                         padding: padding, inputLayout: inputLayout, inputElement: x.element,
                                         backwardData: computesInputGradient, scratch: scratch)
                ?? WidenedConvolution(fp32(), inputElement: x.element)
        } else {
            p = fp32()
        }
        plan = p
        return p
    }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "DNNLConv2d(\(inChannels)→\(outChannels)) got input \(x.shape)")
        let plan = planFor(x)
        input = x
        let y = Tensor.reuse(&output, shape: plan.outputShape, element: plan.outputElement)
        plan.forward(x.raw, weight.value.data, y.raw)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let plan, let x = input else { preconditionFailure("DNNLConv2d.backward before forward") }
        precondition(dy.element == plan.outputElement, "DNNLConv2d: gradient \(dy) for a \(plan.outputElement) output")
        plan.backwardWeights(x.raw, dy.raw, weight.gradient.data)
        let dx: Tensor
        if computesInputGradient {
            dx = pool.take(x.shape, element: plan.inputElement)
            plan.backwardData(dy.raw, weight.value.data, dx.raw)
        } else {
            dx = Tensor.reuse(&emptyGradient, shape: x.shape, element: x.element)
        }
        pool.give(dy)
        return dx
    }
}

/// The oneDNN primitives of one convolution shape, with the weight reorders they need.
///
/// Activations are blocked. Where oneDNN has no optimised kernel for a blocked shape (a 3×3 convolution on
/// a 2×2 image has none for backward-weights, and its reference kernel is 1,000× slower), the plan runs
/// that convolution on plain NCHW activations (oneDNN's GEMM kernels) with reorders at its edges.
final class ConvolutionPlan {
    let inputShape: [Int]
    let outputShape: [Int]
    private let forwardPrimitive: DNNLPrimitive
    private let backwardDataPrimitive: DNNLPrimitive?
    private let backwardWeightsPrimitive: DNNLPrimitive
    /// Plain → the forward kernel's weight layout (nil when they agree).
    private let forwardWeights: DNNLReorder?
    private let backwardDataWeights: DNNLReorder?
    /// The backward-weights kernel's gradient layout → plain, added into the parameter's gradient.
    private let gradientReorder: DNNLReorder
    private let gradientBytes: Int
    private let scratch: ConvolutionScratch
    /// Set when the kernels run on plain activations: blocked ↔ plain reorders and their buffers.
    private let edges: PlainEdges?

    init(inputShape: [Int], outputShape: [Int], weightShape: [Int], stride: Int, padding: Int,
         inputLayout: ActivationLayout, backwardData: Bool, scratch: ConvolutionScratch) {
        self.inputShape = inputShape
        self.scratch = scratch
        self.outputShape = outputShape
        let geometry = Geometry(weightShape: weightShape, stride: stride, padding: padding,
                                what: "convolution \(inputShape) → \(outputShape)", backwardData: backwardData)
        var kernels = Kernels(src: DNNL.descriptor(inputShape, inputLayout.tag), dst: DNNL.descriptor(outputShape, ActivationLayout.blocked.tag), geometry)
        if kernels.usesReferenceCode {
            kernels = Kernels(src: DNNL.descriptor(inputShape, dnnl_nchw), dst: DNNL.descriptor(outputShape, dnnl_nchw), geometry)
            edges = PlainEdges(inputShape: inputShape, outputShape: outputShape, inputLayout: inputLayout)
        } else {
            edges = nil
        }
        let plainWeights = DNNL.descriptor(weightShape, dnnl_oihw)
        forwardPrimitive = kernels.forward
        forwardWeights = ConvolutionPlan.weightCopy(from: plainWeights, to: kernels.forwardWeights)
        backwardDataPrimitive = kernels.backwardData
        backwardDataWeights = kernels.backwardDataWeights.flatMap { ConvolutionPlan.weightCopy(from: plainWeights, to: $0) }
        backwardWeightsPrimitive = kernels.backwardWeights
        gradientReorder = DNNLReorder(from: kernels.gradient, to: plainWeights, accumulate: true)
        gradientBytes = DNNL.bytes(kernels.gradient)
    }

    struct Geometry {
        let weightShape: [Int]
        let strides: [Int64]
        let pads: [Int64]
        let what: String
        let backwardData: Bool

        init(weightShape: [Int], stride: Int, padding: Int, what: String, backwardData: Bool) {
            self.weightShape = weightShape
            strides = [Int64(stride), Int64(stride)]
            pads = [Int64(padding), Int64(padding)]
            self.what = what
            self.backwardData = backwardData
        }
    }

    /// Forward, backward-data and backward-weights primitives for given activation layouts.
    struct Kernels {
        let forward: DNNLPrimitive
        let forwardWeights: dnnl_memory_desc_t
        let backwardData: DNNLPrimitive?
        let backwardDataWeights: dnnl_memory_desc_t?
        let backwardWeights: DNNLPrimitive
        let gradient: dnnl_memory_desc_t
        let usesReferenceCode: Bool

        init(src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, _ g: Geometry) {
            var s = src, d = dst, w = DNNL.descriptor(g.weightShape, dnnl_format_tag_any)
            var forwardOp = dnnl_convolution_desc_t()
            DNNL.check(dnnl_convolution_forward_desc_init(&forwardOp, dnnl_forward_training, dnnl_convolution_direct, &s, &w, nil, &d,
                                                          g.strides, g.pads, g.pads), g.what)
            let forwardPD = DNNL.primitiveDescriptor(&forwardOp, g.what)
            forwardWeights = DNNL.query(forwardPD, dnnl_query_weights_md)
            forward = DNNLPrimitive(forwardPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, dst)])
            var reference = DNNL.isReference(forwardPD)
            if g.backwardData {
                var op = dnnl_convolution_desc_t()
                DNNL.check(dnnl_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &s, &w, &d, g.strides, g.pads, g.pads), g.what + " backward-data")
                let pd = DNNL.primitiveDescriptor(&op, hint: forwardPD, g.what + " backward-data")
                let md = DNNL.query(pd, dnnl_query_weights_md)
                backwardData = DNNLPrimitive(pd, arguments: [(DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_WEIGHTS, md), (DNNL_ARG_DIFF_SRC, src)])
                backwardDataWeights = md
                reference = reference || DNNL.isReference(pd)
            } else {
                backwardData = nil
                backwardDataWeights = nil
            }
            var op = dnnl_convolution_desc_t()
            DNNL.check(dnnl_convolution_backward_weights_desc_init(&op, dnnl_convolution_direct, &s, &w, nil, &d, g.strides, g.pads, g.pads),
                       g.what + " backward-weights")
            let pd = DNNL.primitiveDescriptor(&op, hint: forwardPD, g.what + " backward-weights")
            gradient = DNNL.query(pd, dnnl_query_diff_weights_md)
            backwardWeights = DNNLPrimitive(pd, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_DIFF_WEIGHTS, gradient)])
            usesReferenceCode = reference || DNNL.isReference(pd)
        }
    }

    /// Reorders between the network's blocked activations and the plain ones of a fallback plan.
    final class PlainEdges {
        let inputToPlain: (reorder: DNNLReorder, buffer: Tensor)?     // nil when the input is plain already
        let inputFromPlain: DNNLReorder?
        let outputToPlain: DNNLReorder
        let outputFromPlain: DNNLReorder
        let output: Tensor

        init(inputShape: [Int], outputShape: [Int], inputLayout: ActivationLayout) {
            let (plainIn, blockedIn) = (DNNL.descriptor(inputShape, dnnl_nchw), DNNL.descriptor(inputShape, ActivationLayout.blocked.tag))
            let (plainOut, blockedOut) = (DNNL.descriptor(outputShape, dnnl_nchw), DNNL.descriptor(outputShape, ActivationLayout.blocked.tag))
            if inputLayout == .blocked {
                inputToPlain = (DNNLReorder(from: blockedIn, to: plainIn), Tensor(shape: inputShape))
                inputFromPlain = DNNLReorder(from: plainIn, to: blockedIn)
            } else {
                inputToPlain = nil
                inputFromPlain = nil
            }
            outputToPlain = DNNLReorder(from: blockedOut, to: plainOut)
            outputFromPlain = DNNLReorder(from: plainOut, to: blockedOut)
            output = Tensor(shape: outputShape)
        }

        /// The plain input: a reordered copy, or the tensor itself.
        func plainInput(_ x: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
            guard let (reorder, buffer) = inputToPlain else { return x }
            reorder(x, buffer.data)
            return buffer.raw
        }
    }

    private static func weightCopy(from plain: dnnl_memory_desc_t, to md: dnnl_memory_desc_t) -> DNNLReorder? {
        DNNL.equal(plain, md) ? nil : DNNLReorder(from: plain, to: md)
    }

    func forward(_ x: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ y: UnsafeMutableRawPointer) {
        let w = scratch.weights(weight, forwardWeights, .forwardWeights)
        guard let edges else {
            forwardPrimitive.execute([x, w, y])
            return
        }
        forwardPrimitive.execute([edges.plainInput(x), w, edges.output.raw])
        edges.outputFromPlain(edges.output.raw, y)
    }

    func backwardData(_ dy: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ dx: UnsafeMutableRawPointer) {
        let w = scratch.weights(weight, backwardDataWeights, .backwardDataWeights)
        guard let edges else {
            backwardDataPrimitive!.execute([dy, w, dx])
            return
        }
        edges.outputToPlain(dy, edges.output.raw)
        guard let (_, plainDx) = edges.inputToPlain, let back = edges.inputFromPlain else {
            backwardDataPrimitive!.execute([edges.output.raw, w, dx])
            return
        }
        backwardDataPrimitive!.execute([edges.output.raw, w, plainDx.raw])
        back(plainDx.raw, dx)
    }

    /// gradient += dL/dW. (With plain edges, call before `backwardData`, which reuses the plain buffers.)
    func backwardWeights(_ x: UnsafeMutableRawPointer, _ dy: UnsafeMutableRawPointer, _ gradient: UnsafeMutablePointer<Float>) {
        let blocked = scratch.buffer(.weightGradient, bytes: gradientBytes)
        if let edges {
            edges.outputToPlain(dy, edges.output.raw)
            backwardWeightsPrimitive.execute([edges.plainInput(x), edges.output.raw, blocked])
        } else {
            backwardWeightsPrimitive.execute([x, dy, blocked])
        }
        gradientReorder(blocked, gradient)
    }
}

/// Buffers for the blocked copies of weights and weight gradients, shared by the convolutions of one
/// network: each copy lives only during one primitive call, so one buffer of the largest size serves all.
public final class ConvolutionScratch {
    enum Slot: Int, CaseIterable { case forwardWeights, backwardDataWeights, weightGradient }
    private var buffers = [AlignedBuffer?](repeating: nil, count: Slot.allCases.count)

    public init() {}

    func buffer(_ slot: Slot, bytes: Int) -> UnsafeMutableRawPointer {
        if let b = buffers[slot.rawValue], b.bytes >= bytes { return b.pointer }
        let b = AlignedBuffer(bytes: bytes)
        buffers[slot.rawValue] = b
        return b.pointer
    }

    /// The weights in the layout (and type) a kernel wants: `source` itself, or a reordered copy in `slot`.
    func weights(_ source: UnsafeMutableRawPointer, _ reorder: DNNLReorder?, _ slot: Slot) -> UnsafeMutableRawPointer {
        guard let reorder else { return source }
        let copy = buffer(slot, bytes: DNNL.bytes(reorder.destination))
        reorder(source, copy)
        return copy
    }
}
