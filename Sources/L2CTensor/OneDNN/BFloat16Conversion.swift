import CBFloat16

/// Conversions between fp32 and bf16 tensors, split over the compute threads.
/// fp32 → bf16 rounds to nearest even: oneDNN 2.6's reorder does this at ~1.4 GB/s (a quarter of a bf16 ResNet-18
/// step); one VCVTNEPS2BF16 pass per thread runs at memory speed. bf16 → fp32 is exact.
public enum BFloat16Conversion {
    public static func convert(_ from: UnsafePointer<Float>, to: UnsafeMutableRawPointer, count: Int) {
        let output = to.assumingMemoryBound(to: UInt16.self)
        inChunks(count) { start, end in cbf16_from_f32(from + start, output + start, end - start) }
    }

    public static func widen(_ from: UnsafeRawPointer, to: UnsafeMutablePointer<Float>, count: Int) {
        let input = from.assumingMemoryBound(to: UInt16.self)
        inChunks(count) { start, end in cbf16_to_f32(input + start, to + start, end - start) }
    }

    /// A float32 copy of any tensor (a float32 one is cloned).
    public static func widened(_ t: Tensor) -> Tensor {
        guard t.element == .bfloat16 else { return t.clone() }
        let wide = Tensor(shape: t.shape)
        widen(t.raw, to: wide.data, count: t.count)
        return wide
    }

    /// A bfloat16 copy of a float32 tensor.
    public static func narrowed(_ t: Tensor) -> Tensor {
        precondition(t.element == .float32, "narrowed: \(t) is bfloat16 already")
        let narrow = Tensor(shape: t.shape, element: .bfloat16)
        convert(t.data, to: narrow.raw, count: t.count)
        return narrow
    }

    /// a += b on bf16 storage (each sum rounded once).
    public static func add(_ a: UnsafeMutableRawPointer, _ b: UnsafeRawPointer, count: Int) {
        let (x, y) = (a.assumingMemoryBound(to: UInt16.self), b.assumingMemoryBound(to: UInt16.self))
        inChunks(count) { start, end in cbf16_add(x + start, y + start, end - start) }
    }

    private static func inChunks(_ count: Int, _ body: (Int, Int) -> Void) {
        let chunks = (count + 1023) / 1024
        parallelRanges(chunks) { range, _ in
            let start = range.lowerBound * 1024, end = min(range.upperBound * 1024, count)
            if end > start { body(start, end) }
        }
    }
}
