import Foundation

/// A float32 tensor in contiguous, 64-byte aligned, row-major storage.
///
/// Tensors are reference types: layers keep their activations and gradients in them and reuse
/// storage between steps. The shape is a plain `[Int]`, outermost first (NCHW for images).
public final class Tensor {
    public private(set) var shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    /// A view's storage belongs to another tensor (kept alive here); an owning tensor frees its own.
    private let storageOwner: Tensor?

    public init(shape: [Int]) {
        storageOwner = nil
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        count = shape.reduce(1, *)
        let bytes = Swift.max(count, 1) * MemoryLayout<Float>.stride
        let raw = Tensor.allocate(bytes: bytes, what: "tensor \(shape)")
        data = raw.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
        data.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// `shape`'s elements of `owner`'s storage from `offset` on: no copy, alive as long as the view.
    public init(viewing owner: Tensor, offset: Int, shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= owner.count, "view of \(count) at \(offset) outside \(owner.shape)")
        self.shape = shape
        self.count = count
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

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public var array: [Float] { Array(buffer) }
    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }

    /// Rows of a matrix view: the first dimension; columns: everything else.
    public var rows: Int { shape.first ?? 1 }
    public var columns: Int { rows == 0 ? 0 : count / rows }

    public func zero() { data.update(repeating: 0, count: count) }
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }
    public func clone() -> Tensor {
        let t = Tensor(shape: shape)
        t.copy(from: self)
        return t
    }

    /// A tensor of this shape, reused if `cached` already has it.
    public static func reuse(_ cached: inout Tensor?, shape: [Int]) -> Tensor {
        if let t = cached, t.shape == shape { return t }
        let t = Tensor(shape: shape)
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
    public var description: String { "Tensor\(shape)" }
}
