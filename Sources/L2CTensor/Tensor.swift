import Foundation

/// What a tensor's elements are: float32, or bfloat16 (float32's upper 16 bits) for the activations and
/// activation gradients of a ResNet trained with `--precision bf16`.
public enum TensorElement: Sendable {
    case float32, bfloat16

    public var bytes: Int { self == .float32 ? 4 : 2 }
}

/// A tensor in contiguous, 64-byte aligned, row-major storage: float32, or bfloat16 between the layers of a
/// bf16 ResNet.
///
/// Tensors are reference types: layers keep their activations and gradients in them and reuse
/// storage between steps. The shape is a plain `[Int]`, outermost first (NCHW for images).
/// `data` is the storage as float32; a bfloat16 tensor's storage is reached through `raw` or `bfloat16` only.
public final class Tensor {
    public private(set) var shape: [Int]
    public let count: Int
    public let element: TensorElement
    public let data: UnsafeMutablePointer<Float>
    /// A view's storage belongs to another tensor (kept alive here); an owning tensor frees its own.
    private let storageOwner: Tensor?

    public init(shape: [Int], element: TensorElement = .float32) {
        storageOwner = nil
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.element = element
        count = shape.reduce(1, *)
        let bytes = Swift.max(count * element.bytes, 4)
        let raw = Tensor.allocate(bytes: bytes, what: "tensor \(shape)")
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        data = raw.assumingMemoryBound(to: Float.self)
    }

    /// The storage, whatever the element type (for oneDNN).
    public var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(data) }

    /// A bfloat16 tensor's elements.
    public var bfloat16: UnsafeMutablePointer<UInt16> {
        precondition(element == .bfloat16, "Tensor\(shape) holds \(element), not bfloat16")
        return raw.assumingMemoryBound(to: UInt16.self)
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// The tensors' samples one after the other: [n₁ + n₂ + …, rest of the shape], the rest shared by all of them.
    public convenience init(stacking parts: [Tensor]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.shape.dropFirst() == parts[0].shape.dropFirst() && $0.element == .float32 },
                     "stacking needs float32 tensors of one sample shape, got \(parts.map(\.shape))")
        self.init(shape: [parts.reduce(0) { $0 + $1.rows }] + parts[0].shape.dropFirst())
        var offset = 0
        for part in parts {
            (data + offset).update(from: part.data, count: part.count)
            offset += part.count
        }
    }

    /// `shape`'s elements of `owner`'s storage from `offset` on: no copy, alive as long as the view.
    public init(viewing owner: Tensor, offset: Int, shape: [Int]) {
        precondition(owner.element == .float32, "views of bfloat16 tensors are not supported")
        let count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= owner.count, "view of \(count) at \(offset) outside \(owner.shape)")
        self.shape = shape
        self.count = count
        element = .float32
        data = owner.data + offset
        storageOwner = owner
    }

    deinit { if storageOwner == nil { free(data) } }

    /// 64-byte aligned memory; blocks of 4 MiB and more are 2 MiB aligned and asked to be backed by
    /// transparent huge pages (fewer TLB misses for convolutions striding through large activations).
    static func allocate(bytes: Int, what: @autoclosure () -> String) -> UnsafeMutableRawPointer {
        let hugePage = 2 << 20
        let large = bytes >= 2 * hugePage
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, large ? hugePage : 64, bytes) == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes for \(what())")
        }
        #if os(Linux)
        if large { _ = madvise(raw, (bytes + hugePage - 1) / hugePage * hugePage, MADV_HUGEPAGE) }
        #endif
        return raw
    }

    /// The same storage seen with another shape of the same element count.
    public func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        precondition(element == .float32, "Tensor\(shape) holds bfloat16: widen it first")
        return UnsafeMutableBufferPointer(start: data, count: count)
    }
    public var array: [Float] { Array(buffer) }
    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    /// Rows of a matrix view: the first dimension; columns: everything else.
    public var rows: Int { shape.first ?? 1 }
    public var columns: Int { rows == 0 ? 0 : count / rows }

    public func zero() { raw.initializeMemory(as: UInt8.self, repeating: 0, count: count * element.bytes) }
    public func fill(_ value: Float) {
        precondition(element == .float32, "fill of a bfloat16 tensor")
        data.update(repeating: value, count: count)
    }
    public func copy(from other: Tensor) {
        precondition(other.count == count && other.element == element, "copy of \(other.shape) \(other.element) into \(shape) \(element)")
        raw.copyMemory(from: other.raw, byteCount: count * element.bytes)
    }
    public func clone() -> Tensor {
        let t = Tensor(shape: shape, element: element)
        t.copy(from: self)
        return t
    }

    /// A tensor of this shape and element, reused if `cached` already has them.
    public static func reuse(_ cached: inout Tensor?, shape: [Int], element: TensorElement = .float32) -> Tensor {
        if let t = cached, t.shape == shape, t.element == element { return t }
        let t = Tensor(shape: shape, element: element)
        cached = t
        return t
    }

    /// max |x| over all elements.
    public var maxAbs: Float {
        var m: Float = 0
        for i in 0..<count { m = Swift.max(m, abs(data[i])) }
        return m
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { element == .float32 ? "Tensor\(shape)" : "Tensor\(shape) bfloat16" }
}
