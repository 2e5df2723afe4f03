/// All parameters of a model in one aligned allocation and all their gradients in another, each parameter a
/// view at its own 64-byte aligned offset (in the order given). The gradient all-reduce and zeroing then work on
/// one contiguous buffer, with no pack or unpack copies; names, shapes and checkpoints are unchanged.
///
/// The gradient buffer has `spare` extra floats after the last gradient, for values that travel with it
/// (the training loop's stop and checkpoint requests).
public final class FlatParameters {
    public let values: Tensor
    /// Gradients, padding (zeros) and the spare floats: what one all-reduce sums.
    public let gradients: Tensor
    /// Floats before the spare ones.
    public let gradientCount: Int
    public let spare: Int

    public init(_ parameters: [(name: String, parameter: Parameter)], spare: Int = 0) {
        // Offsets rounded up to 16 floats (64 bytes), the alignment every tensor has on its own.
        var offsets: [Int] = []
        var total = 0
        for (_, p) in parameters {
            offsets.append(total)
            total += (p.value.count + 15) / 16 * 16
        }
        gradientCount = total
        self.spare = spare
        values = Tensor(shape: [max(total, 1)])
        gradients = Tensor(shape: [total + spare])
        for ((_, p), offset) in zip(parameters, offsets) {
            p.rehome(value: Tensor(viewing: values, offset: offset, shape: p.value.shape),
                     gradient: Tensor(viewing: gradients, offset: offset, shape: p.value.shape))
        }
    }

    /// The spare floats after the gradients.
    public var spareSlots: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: gradients.data + gradientCount, count: spare) }

    public func zeroGradients() { gradients.data.update(repeating: 0, count: gradientCount) }
}
