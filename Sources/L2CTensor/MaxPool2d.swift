/// Max pooling on NCHW tensors with a square window (implicit −∞ padding); backward routes each gradient to
/// its window's argmax.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []
    private var output: Tensor?
    private var gradInput: Tensor?

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        precondition(x.shape.count == 4, "MaxPool2d needs NCHW input, got \(x.shape)")
        inputShape = x.shape
        let (planes, height, width) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let outH = (height + 2 * padding - kernel) / stride + 1, outW = (width + 2 * padding - kernel) / stride + 1
        let y = Tensor.reuse(&output, shape: [x.shape[0], x.shape[1], outH, outW])
        if argmax.count != y.count { argmax = [Int32](repeating: 0, count: y.count) }
        argmax.withUnsafeMutableBufferPointer { arg in
            for p in 0..<planes {
                let src = x.data + p * height * width
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        var best = -Float.infinity, bestIndex = 0
                        for ky in 0..<kernel {
                            let iy = oy * stride + ky - padding
                            guard iy >= 0 && iy < height else { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride + kx - padding
                                if ix >= 0 && ix < width && src[iy * width + ix] > best {
                                    best = src[iy * width + ix]
                                    bestIndex = iy * width + ix
                                }
                            }
                        }
                        let o = (p * outH + oy) * outW + ox
                        y[o] = best
                        arg[o] = Int32(bestIndex)
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dx = Tensor.reuse(&gradInput, shape: inputShape)
        dx.zero()
        let plane = inputShape[2] * inputShape[3]
        let outPlane = dy.shape[2] * dy.shape[3]
        argmax.withUnsafeBufferPointer { arg in
            for o in 0..<dy.count {
                dx[(o / outPlane) * plane + Int(arg[o])] += dy[o]
            }
        }
        return dx
    }
}
