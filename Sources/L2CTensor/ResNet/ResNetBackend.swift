import L2CComm

/// Which implementation a ResNet's layers use: oneDNN on blocked activations (the hot path), or the plain
/// im2col layers that serve as its test oracle. Both draw the same weights from the same generator.
public enum ResNetBackend: String, Sendable, CaseIterable {
    case oneDNN = "onednn"
    case reference

    /// Makes a ResNet's layers; the oneDNN ones share one gradient pool.
    final class Factory {
        let backend: ResNetBackend
        let communicator: (any Communicator)?
        let precision: Precision
        let pool = TensorPool()
        let scratch = ConvolutionScratch()

        init(_ backend: ResNetBackend, communicator: (any Communicator)?, precision: Precision = .fp32) {
            precondition(backend == .oneDNN || precision == .fp32, "the reference backend computes in fp32 only")
            self.backend = backend
            self.communicator = communicator
            self.precision = precision
        }

        /// A bias-free convolution with the given weights; `first` takes the plain image.
        func convolution(_ weight: Tensor, stride: Int, padding: Int, first: Bool = false) -> any Layer {
            let (outChannels, inChannels, kernel) = (weight.shape[0], weight.shape[1], weight.shape[2])
            switch backend {
            case .oneDNN:
                return DNNLConv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding,
                                  inputLayout: first ? .plain : .blocked, computesInputGradient: !first, weight: weight, pool: pool, scratch: scratch,
                                  precision: precision)
            case .reference:
                var unused = RandomGenerator(seed: 0)
                let conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: false, rng: &unused)
                conv.weight.value.copy(from: weight)
                return conv
            }
        }

        func norm(_ channels: Int, relu: Bool) -> any NormActivation {
            switch backend {
            case .oneDNN: return BlockedBatchNorm(channels, relu: relu, communicator: communicator, pool: pool)
            case .reference: return ReferenceNormActivation(BatchNorm(channels, communicator: communicator), relu: relu)
            }
        }

        func maxPool(kernel: Int, stride: Int, padding: Int) -> any Layer {
            switch backend {
            case .oneDNN: return DNNLPool2d(.max, kernel: kernel, stride: stride, padding: padding, pool: pool)
            case .reference: return MaxPool2d(kernel: kernel, stride: stride, padding: padding)
            }
        }

        func globalAveragePool() -> any Layer {
            switch backend {
            case .oneDNN: return DNNLPool2d.globalAverage(pool: pool)
            case .reference: return GlobalAveragePool()
            }
        }

        /// A tensor that is no longer needed (a shortcut after its addition) goes back to the pool.
        func release(_ t: Tensor) { pool.give(t) }

        /// a += b, then b goes back to the pool.
        func accumulate(_ a: Tensor, _ b: Tensor) {
            precondition(a.count == b.count && a.element == b.element)
            if a.element == .bfloat16 {
                BFloat16Conversion.add(a.raw, b.raw, count: a.count)
                pool.give(b)
                return
            }
            let (x, y) = (a.data, b.data)
            parallelRanges(a.count / 16) { range, _ in
                for i in (range.lowerBound * 16)..<(range.upperBound * 16) { x[i] += y[i] }
            }
            for i in (a.count / 16 * 16)..<a.count { x[i] += y[i] }
            pool.give(b)
        }
    }
}
