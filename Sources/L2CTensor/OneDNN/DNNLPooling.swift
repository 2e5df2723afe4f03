import CDNNL

/// Max or average pooling by oneDNN on blocked activations (square window).
///
/// Max pooling keeps oneDNN's workspace (the argmax) between forward and backward. Global average pooling
/// is a window the size of the image: its N×C×1×1 blocked output is the same bytes as a plain N×C matrix,
/// so `DNNLPool2d.globalAverage()` ends a blocked trunk with plain features.
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
            plan = PoolingPlan(kind: kind, inputShape: x.shape, outputShape: outShape, kernel: [kh, kw], stride: s, padding: padding)
        }
        inputShape = x.shape
        let plan = plan!
        let y = Tensor.reuse(&output, shape: isGlobal ? [x.shape[0], x.shape[1]] : plan.outputShape)
        plan.forward(x.data, y.data)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let plan else { preconditionFailure("DNNLPool2d.backward before forward") }
        let dx = pool.take(inputShape)
        plan.backward(dy.data, dx.data)
        pool.give(dy)
        return dx
    }
}

final class PoolingPlan {
    let inputShape: [Int]
    let outputShape: [Int]
    private let forwardPrimitive: DNNLPrimitive
    private let backwardPrimitive: DNNLPrimitive
    private let workspace: AlignedBuffer?

    init(kind: DNNLPool2d.Kind, inputShape: [Int], outputShape: [Int], kernel: [Int], stride: Int, padding: Int) {
        self.inputShape = inputShape
        self.outputShape = outputShape
        var src = DNNL.descriptor(inputShape, ActivationLayout.blocked.tag)
        var dst = DNNL.descriptor(outputShape, ActivationLayout.blocked.tag)
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

    func forward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        forwardPrimitive.execute([UnsafeMutableRawPointer(x), UnsafeMutableRawPointer(y)] + (workspace.map { [$0.pointer] } ?? []))
    }

    func backward(_ dy: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        if let workspace {
            backwardPrimitive.execute([UnsafeMutableRawPointer(dy), workspace.pointer, UnsafeMutableRawPointer(dx)])
        } else {
            backwardPrimitive.execute([UnsafeMutableRawPointer(dy), UnsafeMutableRawPointer(dx)])
        }
    }
}
