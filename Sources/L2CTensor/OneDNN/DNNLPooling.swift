import CDNNL

/// Max or average pooling by oneDNN on blocked activations (square window).
///
/// Max pooling keeps oneDNN's workspace (the argmax) between forward and backward. Global average pooling
/// is a window the size of the image: its N×C×1×1 blocked output is the same bytes as a plain N×C matrix,
/// so `DNNLPool2d.globalAverage()` ends a blocked trunk with plain features. Max pooling keeps a bf16 input in
/// bf16; global average pooling widens it and returns fp32 features (its input gradient is bf16 again).
public final class DNNLPool2d: Layer {
    public enum Kind: Sendable { case max, average }
    public let kind: Kind
    /// nil kernel: the whole image (global pooling).
    public let kernel: Int?
    public let stride: Int
    public let padding: Int
    private let pool: TensorPool
    private var plan: PoolingPlan?
    private var inputShape: [Int] = []
    private var output: Tensor?
    private var inputElement: TensorElement = .float32
    /// A bf16 input to global pooling, widened; then its fp32 gradient.
    private var widened: Tensor?

    public init(_ kind: Kind, kernel: Int?, stride: Int = 1, padding: Int = 0, pool: TensorPool) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.pool = pool
    }

    public static func globalAverage(pool: TensorPool) -> DNNLPool2d { DNNLPool2d(.average, kernel: nil, pool: pool) }

    private var isGlobal: Bool { kernel == nil }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] % ActivationLayout.channelMultiple == 0, "DNNLPool2d needs blocked N×C×H×W input, got \(x.shape)")
        if plan?.inputShape != x.shape {
            let kh = kernel ?? x.shape[2], kw = kernel ?? x.shape[3]
            let s = isGlobal ? 1 : stride
            let outShape = [x.shape[0], x.shape[1], (x.shape[2] + 2 * padding - kh) / s + 1, (x.shape[3] + 2 * padding - kw) / s + 1]
            let element: TensorElement = isGlobal ? .float32 : x.element
            plan = PoolingPlan(kind: kind, inputShape: x.shape, outputShape: outShape, kernel: [kh, kw], stride: s, padding: padding, element: element)
        }
        inputShape = x.shape
        inputElement = x.element
        let plan = plan!
        let y = Tensor.reuse(&output, shape: isGlobal ? [x.shape[0], x.shape[1]] : plan.outputShape, element: plan.element)
        var source = x
        if x.element != plan.element {
            source = Tensor.reuse(&widened, shape: x.shape)
            BFloat16Conversion.widen(x.raw, to: source.data, count: x.count)
        }
        plan.forward(source.raw, y.raw)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let plan else { preconditionFailure("DNNLPool2d.backward before forward") }
        let dx = pool.take(inputShape, element: inputElement)
        guard inputElement != plan.element, let wide = widened else {
            plan.backward(dy.raw, dx.raw)
            pool.give(dy)
            return dx
        }
        plan.backward(dy.raw, wide.raw)
        BFloat16Conversion.convert(wide.data, to: dx.raw, count: dx.count)
        pool.give(dy)
        return dx
    }
}

final class PoolingPlan {
    let inputShape: [Int]
    let outputShape: [Int]
    let element: TensorElement
    private let forwardPrimitive: DNNLPrimitive
    private let backwardPrimitive: DNNLPrimitive
    private let workspace: AlignedBuffer?

    init(kind: DNNLPool2d.Kind, inputShape: [Int], outputShape: [Int], kernel: [Int], stride: Int, padding: Int, element: TensorElement) {
        self.inputShape = inputShape
        self.outputShape = outputShape
        self.element = element
        var src = DNNL.descriptor(inputShape, ActivationLayout.blocked.tag, element.dnnl)
        var dst = DNNL.descriptor(outputShape, ActivationLayout.blocked.tag, element.dnnl)
        let algorithm = kind == .max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding
        let strides: [Int64] = [Int64(stride), Int64(stride)]
        let window = kernel.map(Int64.init)
        let dilation: [Int64] = [0, 0]
        let pads: [Int64] = [Int64(padding), Int64(padding)]
        let what = "pooling \(inputShape) → \(outputShape)"
        var forwardOp = dnnl_pooling_v2_desc_t()
        DNNL.check(dnnl_pooling_v2_forward_desc_init(&forwardOp, dnnl_forward_training, algorithm, &src, &dst, strides, window, dilation, pads, pads), what)
        let forwardPD = DNNL.primitiveDescriptor(&forwardOp, what)
        var backwardOp = dnnl_pooling_v2_desc_t()
        DNNL.check(dnnl_pooling_v2_backward_desc_init(&backwardOp, algorithm, &src, &dst, strides, window, dilation, pads, pads), what + " backward")
        let backwardPD = DNNL.primitiveDescriptor(&backwardOp, hint: forwardPD, what + " backward")
        if kind == .max {
            let ws = DNNL.query(forwardPD, dnnl_query_workspace_md)
            workspace = AlignedBuffer(bytes: DNNL.bytes(ws))
            forwardPrimitive = DNNLPrimitive(forwardPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst), (DNNL_ARG_WORKSPACE, ws)])
            backwardPrimitive = DNNLPrimitive(backwardPD, arguments: [(DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_WORKSPACE, ws), (DNNL_ARG_DIFF_SRC, src)])
        } else {
            workspace = nil
            forwardPrimitive = DNNLPrimitive(forwardPD, arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst)])
            backwardPrimitive = DNNLPrimitive(backwardPD, arguments: [(DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_DIFF_SRC, src)])
        }
    }

    func forward(_ x: UnsafeMutableRawPointer, _ y: UnsafeMutableRawPointer) {
        forwardPrimitive.execute([x, y] + (workspace.map { [$0.pointer] } ?? []))
    }

    func backward(_ dy: UnsafeMutableRawPointer, _ dx: UnsafeMutableRawPointer) {
        if let workspace {
            backwardPrimitive.execute([dy, workspace.pointer, dx])
        } else {
            backwardPrimitive.execute([dy, dx])
        }
    }
}
