import Foundation
import CDNNL

/// How an N×C×H×W activation is laid out in memory.
///
/// `blocked` is oneDNN's nChw16c: [N][C/16][H][W][16], the layout its AVX-512 kernels run fastest on. A
/// ResNet keeps activations blocked from its first convolution to its global pooling, whose N×C×1×1
/// output is the same bytes as a plain N×C matrix. Channel counts in the blocked part are multiples of 16.
public enum ActivationLayout: Sendable {
    case plain
    case blocked

    var tag: dnnl_format_tag_t { self == .plain ? dnnl_nchw : dnnl_nChw16c }

    /// Channels per block: the stride between a pixel's neighbouring channel groups.
    public static let channelBlock = 16
}

/// Converts between plain NCHW and blocked nChw16c (tests and the edges of a network).
public enum BlockedLayout {
    public static func toBlocked(_ plain: Tensor) -> Tensor { convert(plain, from: .plain, to: .blocked) }
    public static func toPlain(_ blocked: Tensor) -> Tensor { convert(blocked, from: .blocked, to: .plain) }

    static func convert(_ x: Tensor, from: ActivationLayout, to: ActivationLayout) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] % ActivationLayout.channelBlock == 0, "blocked layout needs N×C×H×W with C a multiple of 16, got \(x.shape)")
        let y = Tensor(shape: x.shape)
        DNNLReorder(from: DNNL.descriptor(x.shape, from.tag), to: DNNL.descriptor(x.shape, to.tag))(x.data, y.data)
        return y
    }
}

/// Raw 64-byte aligned storage for oneDNN's own layouts of weights and workspaces.
final class AlignedBuffer {
    let pointer: UnsafeMutableRawPointer
    let bytes: Int

    init(bytes: Int) {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, Swift.max(bytes, 64)) == 0, let raw else { fatalError("out of memory allocating \(bytes) bytes") }
        pointer = raw
        self.bytes = bytes
    }

    deinit { free(pointer) }
}
