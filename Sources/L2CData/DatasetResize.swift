extension Dataset {
    /// Every image resampled to height × width by bilinear interpolation over pixel centres (as PyTorch's
    /// `interpolate(mode="bilinear", align_corners=False)` without antialiasing): output pixel (y, x) reads the
    /// input at ((y + ½)·H/h − ½, (x + ½)·W/w − ½), clamped to the edges.
    public func resized(height newHeight: Int, width newWidth: Int) -> Dataset {
        if (newHeight, newWidth) == (height, width) { return self }
        precondition(newHeight > 0 && newWidth > 0, "resize to \(newHeight)×\(newWidth)")
        let rows = Self.taps(from: height, to: newHeight), columns = Self.taps(from: width, to: newWidth)
        let planeIn = height * width, planeOut = newHeight * newWidth
        var output = [Float](repeating: 0, count: count * channels * planeOut)
        images.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for plane in 0..<(count * channels) {
                    let source = input.baseAddress! + plane * planeIn, target = output.baseAddress! + plane * planeOut
                    for (y, row) in rows.enumerated() {
                        let (top, bottom) = (source + row.low * width, source + row.high * width)
                        for (x, column) in columns.enumerated() {
                            let upper = top[column.low] + column.weight * (top[column.high] - top[column.low])
                            let lower = bottom[column.low] + column.weight * (bottom[column.high] - bottom[column.low])
                            target[y * newWidth + x] = upper + row.weight * (lower - upper)
                        }
                    }
                }
            }
        }
        return Dataset(images: output, labels: labels, channels: channels, height: newHeight, width: newWidth, source: source)
    }

    /// For each output index: the two input indices it lies between and the weight of the second.
    static func taps(from size: Int, to newSize: Int) -> [(low: Int, high: Int, weight: Float)] {
        (0..<newSize).map { i in
            let position = max(0, (Double(i) + 0.5) * Double(size) / Double(newSize) - 0.5)
            let low = min(Int(position), size - 1)
            return (low, min(low + 1, size - 1), Float(position - Double(low)))
        }
    }
}
