import CDNNL

/// One convolution shape's kernels, whatever arithmetic they use. Activations and their gradients are passed
/// as raw storage of the element types the kernels declare; weights are plain fp32, weight gradients fp32.
protocol ConvolutionKernels: AnyObject {
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// The element type of the input and of its gradient.
    var inputElement: TensorElement { get }
    /// The element type of the output and of its gradient.
    var outputElement: TensorElement { get }
    func forward(_ x: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ y: UnsafeMutableRawPointer)
    /// gradient += dL/dW. Called before `backwardData` of the same step.
    func backwardWeights(_ x: UnsafeMutableRawPointer, _ dy: UnsafeMutableRawPointer, _ gradient: UnsafeMutablePointer<Float>)
    func backwardData(_ dy: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ dx: UnsafeMutableRawPointer)
}

extension ConvolutionPlan: ConvolutionKernels {
    var inputElement: TensorElement { .float32 }
    var outputElement: TensorElement { .float32 }
}

/// A convolution on bf16 activations by oneDNN's native bf16 kernels: bf16 input, output, output gradient and
/// input gradient (each an fp32 sum of bf16 products, rounded once), fp32 weight gradient.
///
/// Weights are converted from the fp32 master copy once per step, by the reorder into the forward kernel's layout
/// that fp32 runs too; backward-data reorders that bf16 copy into its layout.
/// A network's first convolution takes the fp32 image: it is converted to bf16 once in forward and kept for
/// backward-weights. `make` returns nil where oneDNN has only a reference kernel for the shape.
final class BF16ConvolutionPlan: ConvolutionKernels {
    let inputShape: [Int]
    let outputShape: [Int]
    let inputElement: TensorElement
    var outputElement: TensorElement { .bfloat16 }
    private let forwardPrimitive: DNNLPrimitive
    private let backwardDataPrimitive: DNNLPrimitive?
    private let backwardWeightsPrimitive: DNNLPrimitive
    private let forwardWeights: DNNLReorder
    /// The step's weights in bf16, in the forward kernel's layout: converted once, in forward; backward-data
    /// reorders them (bf16 to bf16) into its own layout.
    private let weightsBF16: AlignedBuffer
    private let backwardDataWeights: DNNLReorder?
    private let gradientReorder: DNNLReorder
    private let gradientBytes: Int
    /// An fp32 input in bf16, from forward to backward-weights.
    private let convertedInput: AlignedBuffer?
    private let scratch: ConvolutionScratch

    static func make(inputShape: [Int], outputShape: [Int], weightShape: [Int], stride: Int, padding: Int,
                     inputLayout: ActivationLayout, inputElement: TensorElement, backwardData: Bool,
                     scratch: ConvolutionScratch) -> BF16ConvolutionPlan? {
        precondition(inputElement == .bfloat16 || !backwardData, "an fp32 input to a bf16 convolution has no bf16 gradient")
        let what = "bf16 convolution \(inputShape) → \(outputShape)"
        let strides = [Int64(stride), Int64(stride)], pads = [Int64(padding), Int64(padding)]
        let src = DNNL.descriptor(inputShape, inputLayout.tag, dnnl_bf16), dst = DNNL.descriptor(outputShape, ActivationLayout.blocked.tag, dnnl_bf16)
        var (s, d, w) = (src, dst, DNNL.descriptor(weightShape, dnnl_format_tag_any, dnnl_bf16))
        var forwardOp = dnnl_convolution_desc_t()
        DNNL.check(dnnl_convolution_forward_desc_init(&forwardOp, dnnl_forward_training, dnnl_convolution_direct, &s, &w, nil, &d, strides, pads, pads), what)
        let forwardPD = DNNL.primitiveDescriptor(&forwardOp, what)
        guard !DNNL.isReference(forwardPD) else { dnnl_primitive_desc_destroy(forwardPD); return nil }
        var backwardDataPD: dnnl_primitive_desc_t?
        if backwardData {
            var op = dnnl_convolution_desc_t()
            var diffSrc = src
            DNNL.check(dnnl_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &diffSrc, &w, &d, strides, pads, pads), what + " backward-data")
            backwardDataPD = DNNL.primitiveDescriptor(&op, hint: forwardPD, what + " backward-data")
        }
        var weightsOp = dnnl_convolution_desc_t()
        var diffWeights = DNNL.descriptor(weightShape, dnnl_format_tag_any)
        DNNL.check(dnnl_convolution_backward_weights_desc_init(&weightsOp, dnnl_convolution_direct, &s, &diffWeights, nil, &d, strides, pads, pads),
                   what + " backward-weights")
        let weightsPD = DNNL.primitiveDescriptor(&weightsOp, hint: forwardPD, what + " backward-weights")
        if DNNL.isReference(weightsPD) || backwardDataPD.map(DNNL.isReference) == true {
            for pd in [forwardPD, weightsPD] + (backwardDataPD.map { [$0] } ?? []) { dnnl_primitive_desc_destroy(pd) }
            return nil
        }
        return BF16ConvolutionPlan(inputShape: inputShape, outputShape: outputShape, weightShape: weightShape, inputElement: inputElement,
                                   forwardPD: forwardPD, backwardDataPD: backwardDataPD, weightsPD: weightsPD, src: src, dst: dst, scratch: scratch)
    }

    private init(inputShape: [Int], outputShape: [Int], weightShape: [Int], inputElement: TensorElement, forwardPD: dnnl_primitive_desc_t,
                 backwardDataPD: dnnl_primitive_desc_t?, weightsPD: dnnl_primitive_desc_t, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t,
                 scratch: ConvolutionScratch) {
        self.inputShape = inputShape
        self.outputShape = outputShape
        self.inputElement = inputElement
        self.scratch = scratch
        let plainWeights = DNNL.descriptor(weightShape, dnnl_oihw)
        let kernelWeights = DNNL.query(forwardPD, dnnl_query_weights_md)
        forwardPrimitive = DNNLPrimitive(forwardPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, kernelWeights), (DNNL_ARG_DST, dst)])
        forwardWeights = DNNLReorder(from: plainWeights, to: kernelWeights)
        weightsBF16 = AlignedBuffer(bytes: DNNL.bytes(kernelWeights))
        if let backwardDataPD {
            let md = DNNL.query(backwardDataPD, dnnl_query_weights_md)
            backwardDataPrimitive = DNNLPrimitive(backwardDataPD, arguments: [(DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_WEIGHTS, md), (DNNL_ARG_DIFF_SRC, src)])
            backwardDataWeights = DNNLReorder(from: kernelWeights, to: md)
        } else {
            backwardDataPrimitive = nil
            backwardDataWeights = nil
        }
        let gradient = DNNL.query(weightsPD, dnnl_query_diff_weights_md)
        backwardWeightsPrimitive = DNNLPrimitive(weightsPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_DIFF_WEIGHTS, gradient)])
        gradientReorder = DNNLReorder(from: gradient, to: plainWeights, accumulate: true)
        gradientBytes = DNNL.bytes(gradient)
        convertedInput = inputElement == .float32 ? AlignedBuffer(bytes: DNNL.bytes(src)) : nil
    }

    /// The bf16 input the kernels read: the tensor itself, or its converted copy (made in forward).
    private func bf16Input(_ x: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer { convertedInput?.pointer ?? x }

    func forward(_ x: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ y: UnsafeMutableRawPointer) {
        if let convertedInput {
            BFloat16Conversion.convert(x.assumingMemoryBound(to: Float.self), to: convertedInput.pointer, count: inputShape.reduce(1, *))
        }
        forwardWeights(weight, weightsBF16.pointer)
        forwardPrimitive.execute([bf16Input(x), weightsBF16.pointer, y])
    }

    func backwardWeights(_ x: UnsafeMutableRawPointer, _ dy: UnsafeMutableRawPointer, _ gradient: UnsafeMutablePointer<Float>) {
        let blocked = scratch.buffer(.weightGradient, bytes: gradientBytes)
        backwardWeightsPrimitive.execute([bf16Input(x), dy, blocked])
        gradientReorder(blocked, gradient)
    }

    func backwardData(_ dy: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ dx: UnsafeMutableRawPointer) {
        let w = scratch.weights(weightsBF16.pointer, backwardDataWeights, .backwardDataWeights)
        backwardDataPrimitive!.execute([dy, w, dx])
    }
}

/// fp32 kernels inside a bf16 network, for a shape oneDNN has no native bf16 kernel for: activations are widened
/// on the way in and rounded on the way out.
final class WidenedConvolution: ConvolutionKernels {
    private let fp32: ConvolutionPlan
    let inputElement: TensorElement
    var outputElement: TensorElement { .bfloat16 }
    var inputShape: [Int] { fp32.inputShape }
    var outputShape: [Int] { fp32.outputShape }
    private let input: Tensor           // a bf16 input widened, from forward to backward-weights
    private let output: Tensor          // the fp32 output, then the widened output gradient
    private let inputGradient: Tensor

    init(_ fp32: ConvolutionPlan, inputElement: TensorElement) {
        self.fp32 = fp32
        self.inputElement = inputElement
        input = Tensor(shape: inputElement == .bfloat16 ? fp32.inputShape : [0])
        output = Tensor(shape: fp32.outputShape)
        inputGradient = Tensor(shape: inputElement == .bfloat16 ? fp32.inputShape : [0])
    }

    private func wide(_ x: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> {
        inputElement == .bfloat16 ? input.data : x.assumingMemoryBound(to: Float.self)
    }

    func forward(_ x: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ y: UnsafeMutableRawPointer) {
        if inputElement == .bfloat16 { BFloat16Conversion.widen(x, to: input.data, count: input.count) }
        fp32.forward(wide(x), weight, output.data)
        BFloat16Conversion.convert(output.data, to: y, count: output.count)
    }

    /// Widens dy into `output`'s buffer, which `backwardData` then reads.
    func backwardWeights(_ x: UnsafeMutableRawPointer, _ dy: UnsafeMutableRawPointer, _ gradient: UnsafeMutablePointer<Float>) {
        BFloat16Conversion.widen(dy, to: output.data, count: output.count)
        fp32.backwardWeights(wide(x), output.data, gradient)
    }

    func backwardData(_ dy: UnsafeMutableRawPointer, _ weight: UnsafeMutablePointer<Float>, _ dx: UnsafeMutableRawPointer) {
        precondition(inputElement == .bfloat16, "the gradient of an fp32 input to a bf16 network")
        fp32.backwardData(output.data, weight, inputGradient.data)
        BFloat16Conversion.convert(inputGradient.data, to: dx, count: inputGradient.count)
    }
}
