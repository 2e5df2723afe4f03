import L2CTensor

extension Dataset {
    /// The images of `indices` as an NCHW tensor.
    public func batch(_ indices: some Collection<Int>) -> Tensor {
        let t = Tensor(shape: [indices.count, channels, height, width])
        images.withUnsafeBufferPointer { src in
            for (row, i) in indices.enumerated() {
                (t.data + row * sampleSize).update(from: src.baseAddress! + i * sampleSize, count: sampleSize)
            }
        }
        return t
    }
}
