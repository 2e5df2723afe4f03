import CDNNL
import Foundation

/// How an N×C×H×W activation is laid out in memory.
///
/// `blocked` is oneDNN's nChw16c ([N][C/16][H][W][16]) on AVX-512 machines and nChw8c on AVX2 ones: the
/// layout its JIT convolutions choose for this CPU (forcing the other one falls back to reference code).
/// A ResNet keeps activations blocked from its first convolution to its global pooling, whose N×C×1×1
/// output is the same bytes as a plain N×C matrix. Channel counts in the blocked part are multiples of 16.
public enum ActivationLayout: Sendable {
    case plain
    case blocked

    var tag: dnnl_format_tag_t { self == .plain ? dnnl_nchw : (ActivationLayout.channelBlock == 16 ? dnnl_nChw16c : dnnl_nChw8c) }

    /// Channels per block (8 or 16): asked of oneDNN once, by letting a ResNet-like convolution choose.
    public static let channelBlock: Int = {
        var src = DNNL.descriptor([32, 64, 56, 56], dnnl_format_tag_any)
        var dst = src
        var weights = DNNL.descriptor([64, 64, 3, 3], dnnl_format_tag_any)
        let ones: [Int64] = [1, 1]
        var op = dnnl_convolution_desc_t()
        DNNL.check(dnnl_convolution_forward_desc_init(&op, dnnl_forward_training, dnnl_convolution_direct, &src, &weights, nil, &dst, ones, ones, ones), "probe convolution")
        let pd = DNNL.primitiveDescriptor(&op, "probe convolution")
        defer { dnnl_primitive_desc_destroy(pd) }
        let chosen = DNNL.query(pd, dnnl_query_src_md)
        let blocking = chosen.format_desc.blocking
        return blocking.inner_nblks == 1 && blocking.inner_blks.0 == 8 ? 8 : 16
    }()

    /// Channel counts that suit every block width.
    public static let channelMultiple = 16
}

/// Converts between plain NCHW float32 and blocked nChw16c of either element type (tests and the edges of a network).
public enum BlockedLayout {
    public static func toBlocked(_ plain: Tensor, element: TensorElement = .float32) -> Tensor {
        convert(plain, from: .plain, to: .blocked, element: element)
    }
    public static func toPlain(_ blocked: Tensor) -> Tensor { convert(blocked, from: .blocked, to: .plain, element: .float32) }

    static func convert(_ x: Tensor, from: ActivationLayout, to: ActivationLayout, element: TensorElement) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] % ActivationLayout.channelMultiple == 0, "blocked layout needs N×C×H×W with C a multiple of 16, got \(x.shape)")
        let y = Tensor(shape: x.shape, element: element)
        DNNLReorder(from: DNNL.descriptor(x.shape, from.tag, x.element.dnnl), to: DNNL.descriptor(x.shape, to.tag, element.dnnl))(x.raw, y.raw)
        return y
    }
}

extension TensorElement {
    var dnnl: dnnl_data_type_t { self == .float32 ? dnnl_f32 : dnnl_bf16 }
}

/// Raw 64-byte aligned storage for oneDNN's own layouts of weights and workspaces.
final class AlignedBuffer {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int

    init(bytes: Int) {
        pointer = Tensor.allocate(bytes: Swift.max(bytes, 64), what: "a oneDNN buffer")
        self.bytes = bytes
    }

    deinit { free(pointer) }
}
