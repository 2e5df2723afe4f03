/// All parameters of a model in one aligned allocation and all their gradients in another, each parameter a
/// view at its own 64-byte aligned offset (in the order given). The gradient all-reduce and zeroing then work on
/// one contiguous buffer, with no pack or unpack copies; names, shapes and checkpoints are unchanged.
///
/// The gradient buffer starts with `spare` extra floats, for values that travel with the gradients (the training
/// loop's stop and checkpoint requests), padded to 16 floats; the gradients follow:
///
///     gradients = [spare | pad][param₀ | pad][param₁ | pad] …
///
/// Buckets of a gradient all-reduce are cut from the end, so the spare floats go with the last bucket, after
/// backward has finished.
public final class FlatParameters {
    public let values: Tensor
    /// The spare floats, gradients and padding (zeros): what the all-reduces sum.
    public let gradients: Tensor
    public let spare: Int
    /// Where each parameter's gradient lies in `gradients`, in the order given.
    public let gradientRanges: [Range<Int>]

    public init(_ parameters: [(name: String, parameter: Parameter)], spare: Int = 0) {
        // Offsets rounded up to 16 floats (64 bytes), the alignment every tensor has on its own.
        func padded(_ count: Int) -> Int { (count + 15) / 16 * 16 }
        let first = padded(spare)
        var ranges: [Range<Int>] = []
        var end = first
        for (_, p) in parameters {
            ranges.append(end..<(end + p.value.count))
            end += padded(p.value.count)
        }
        self.spare = spare
        gradientRanges = ranges
        values = Tensor(shape: [max(end - first, 1)])
        gradients = Tensor(shape: [max(end, 1)])
        for ((_, p), range) in zip(parameters, ranges) {
            p.rehome(value: Tensor(viewing: values, offset: range.lowerBound - first, shape: p.value.shape),
                     gradient: Tensor(viewing: gradients, offset: range.lowerBound, shape: p.value.shape))
        }
    }

    /// The spare floats, at the start of the gradient buffer.
    public var spareSlots: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: gradients.data, count: spare) }

    /// Where the gradients start (after the spare floats and their padding).
    public var gradientStart: Int { (spare + 15) / 16 * 16 }

    public func zeroGradients() { (gradients.data + gradientStart).update(repeating: 0, count: gradients.count - gradientStart) }
}
