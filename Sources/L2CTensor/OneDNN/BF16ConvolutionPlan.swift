import CDNNL

/// One convolution shape's kernels, whatever arithmetic they use: fp32 activations and plain fp32 weights in,
/// fp32 outputs and weight gradients out.
protocol ConvolutionKernels: AnyObject {
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    func forward(_ x: UnsafeMutablePointer<Float>, _ weight: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>)
    /// gradient += dL/dW. Called before `backwardData` of the same step.
    func backwardWeights(_ x: UnsafeMutablePointer<Float>, _ dy: UnsafeMutablePointer<Float>, _ gradient: UnsafeMutablePointer<Float>)
    func backwardData(_ dy: UnsafeMutablePointer<Float>, _ weight: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>)
}

extension ConvolutionPlan: ConvolutionKernels {}

/// A convolution on bf16 operands with fp32 results, by oneDNN's native bf16 kernels.
///
/// Activations and gradients stay fp32 between layers. The input is converted to bf16 once in forward and
/// kept for backward-weights; the output gradient once in backward, for both backward passes. Weights are
/// converted from the fp32 master copy by the reorder into the kernel's layout that fp32 runs too. Outputs,
/// input gradients and weight gradients are fp32 (each a sum of bf16 products accumulated in fp32).
/// `make` returns nil where oneDNN has only a reference kernel for the shape; the layer then runs fp32.
final class BF16ConvolutionPlan: ConvolutionKernels {
    let inputShape: [Int]
    let outputShape: [Int]
    private let forwardPrimitive: DNNLPrimitive
    private let backwardDataPrimitive: DNNLPrimitive?
    private let backwardWeightsPrimitive: DNNLPrimitive
    private let forwardWeights: DNNLReorder
    private let backwardDataWeights: DNNLReorder?
    private let gradientReorder: DNNLReorder
    private let gradientBytes: Int
    private let inputCount: Int
    private let outputCount: Int
    /// This layer's input in bf16, from forward to backward-weights.
    private let inputBF16: AlignedBuffer
    private let outputGradientBytes: Int
    private var convertedGradient: UnsafeMutablePointer<Float>?
    private let scratch: ConvolutionScratch

    static func make(inputShape: [Int], outputShape: [Int], weightShape: [Int], stride: Int, padding: Int,
                     inputLayout: ActivationLayout, backwardData: Bool, scratch: ConvolutionScratch) -> BF16ConvolutionPlan? {
        let what = "bf16 convolution \(inputShape) → \(outputShape)"
        let strides = [Int64(stride), Int64(stride)], pads = [Int64(padding), Int64(padding)]
        let src = DNNL.descriptor(inputShape, inputLayout.tag, dnnl_bf16), dst = DNNL.descriptor(outputShape, ActivationLayout.blocked.tag)
        let dstBF16 = DNNL.descriptor(outputShape, ActivationLayout.blocked.tag, dnnl_bf16)
        var (s, d, w) = (src, dst, DNNL.descriptor(weightShape, dnnl_format_tag_any, dnnl_bf16))
        var forwardOp = dnnl_convolution_desc_t()
        DNNL.check(dnnl_convolution_forward_desc_init(&forwardOp, dnnl_forward_training, dnnl_convolution_direct, &s, &w, nil, &d, strides, pads, pads), what)
        let forwardPD = DNNL.primitiveDescriptor(&forwardOp, what)
        guard !DNNL.isReference(forwardPD) else { dnnl_primitive_desc_destroy(forwardPD); return nil }
        // Backward passes take the output gradient in bf16.
        var dBF16 = dstBF16
        var backwardDataPD: dnnl_primitive_desc_t?
        if backwardData {
            var op = dnnl_convolution_desc_t()
            var diffSrc = DNNL.descriptor(inputShape, inputLayout.tag)
            DNNL.check(dnnl_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &diffSrc, &w, &dBF16, strides, pads, pads), what + " backward-data")
            backwardDataPD = DNNL.primitiveDescriptor(&op, hint: forwardPD, what + " backward-data")
        }
        var weightsOp = dnnl_convolution_desc_t()
        var diffWeights = DNNL.descriptor(weightShape, dnnl_format_tag_any)
        DNNL.check(dnnl_convolution_backward_weights_desc_init(&weightsOp, dnnl_convolution_direct, &s, &diffWeights, nil, &dBF16, strides, pads, pads),
                   what + " backward-weights")
        let weightsPD = DNNL.primitiveDescriptor(&weightsOp, hint: forwardPD, what + " backward-weights")
        if DNNL.isReference(weightsPD) || backwardDataPD.map(DNNL.isReference) == true {
            for pd in [forwardPD, weightsPD] + (backwardDataPD.map { [$0] } ?? []) { dnnl_primitive_desc_destroy(pd) }
            return nil
        }
        return BF16ConvolutionPlan(inputShape: inputShape, outputShape: outputShape, weightShape: weightShape, inputLayout: inputLayout,
                                   forwardPD: forwardPD, backwardDataPD: backwardDataPD, weightsPD: weightsPD, src: src, dst: dst, dstBF16: dstBF16,
                                   scratch: scratch)
    }

    private init(inputShape: [Int], outputShape: [Int], weightShape: [Int], inputLayout: ActivationLayout, forwardPD: dnnl_primitive_desc_t,
                 backwardDataPD: dnnl_primitive_desc_t?, weightsPD: dnnl_primitive_desc_t, src: dnnl_memory_desc_t, dst: dnnl_memory_desc_t,
                 dstBF16: dnnl_memory_desc_t, scratch: ConvolutionScratch) {
        self.inputShape = inputShape
        self.outputShape = outputShape
        self.scratch = scratch
        let plainWeights = DNNL.descriptor(weightShape, dnnl_oihw)
        let kernelWeights = DNNL.query(forwardPD, dnnl_query_weights_md)
        forwardPrimitive = DNNLPrimitive(forwardPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, kernelWeights), (DNNL_ARG_DST, dst)])
        forwardWeights = DNNLReorder(from: plainWeights, to: kernelWeights)
        if let backwardDataPD {
            let md = DNNL.query(backwardDataPD, dnnl_query_weights_md)
            let diffSrc = DNNL.query(backwardDataPD, dnnl_query_diff_src_md)
            backwardDataPrimitive = DNNLPrimitive(backwardDataPD, arguments: [(DNNL_ARG_DIFF_DST, dstBF16), (DNNL_ARG_WEIGHTS, md), (DNNL_ARG_DIFF_SRC, diffSrc)])
            backwardDataWeights = DNNLReorder(from: plainWeights, to: md)
        } else {
            backwardDataPrimitive = nil
            backwardDataWeights = nil
        }
        let gradient = DNNL.query(weightsPD, dnnl_query_diff_weights_md)
        backwardWeightsPrimitive = DNNLPrimitive(weightsPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, dstBF16), (DNNL_ARG_DIFF_WEIGHTS, gradient)])
        gradientReorder = DNNLReorder(from: gradient, to: plainWeights, accumulate: true)
        gradientBytes = DNNL.bytes(gradient)
        // Same layout in both types: the conversions are elementwise.
        (inputCount, outputCount) = (inputShape.reduce(1, *), outputShape.reduce(1, *))
        inputBF16 = AlignedBuffer(bytes: DNNL.bytes(src))
        outputGradientBytes = DNNL.bytes(dstBF16)
    }

    /// dy in bf16, converted once per backward (both passes read it).
    private func outputGradient(_ dy: UnsafeMutablePointer<Float>) -> UnsafeMutableRawPointer {
        let buffer = scratch.buffer(.outputGradientBF16, bytes: outputGradientBytes)
        if convertedGradient != dy {
            BFloat16Conversion.convert(dy, to: buffer, count: outputCount)
            convertedGradient = dy
        }
        return buffer
    }

    func forward(_ x: UnsafeMutablePointer<Float>, _ weight: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        BFloat16Conversion.convert(x, to: inputBF16.pointer, count: inputCount)
        convertedGradient = nil
        forwardPrimitive.execute([inputBF16.pointer, scratch.weights(weight, forwardWeights, .forwardWeights), UnsafeMutableRawPointer(y)])
    }

    func backwardWeights(_ x: UnsafeMutablePointer<Float>, _ dy: UnsafeMutablePointer<Float>, _ gradient: UnsafeMutablePointer<Float>) {
        let blocked = scratch.buffer(.weightGradient, bytes: gradientBytes)
        backwardWeightsPrimitive.execute([inputBF16.pointer, outputGradient(dy), blocked])
        gradientReorder(blocked, gradient)
    }

    func backwardData(_ dy: UnsafeMutablePointer<Float>, _ weight: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let w = scratch.weights(weight, backwardDataWeights!, .backwardDataWeights)
        backwardDataPrimitive!.execute([outputGradient(dy), w, UnsafeMutableRawPointer(dx)])
        convertedGradient = nil
    }
}
