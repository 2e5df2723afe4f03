import L2CComm

/// ResNet-18, -34 and -50 as feature extractors: stem, four stages of residual blocks, global average
/// pooling to N×features. A head (classifier, SPN pair head, clustering or ACOL layer) goes on top.
public enum ResNet: String, Sendable, CaseIterable {
    case resnet18, resnet34, resnet50

    /// The ImageNet stem (7×7/2 convolution, 3×3/2 max-pool) or the small-image stem (3×3/1, no pool).
    public enum Stem: String, Sendable {
        case imagenet, small

        /// The small stem for inputs under 64 pixels a side, as for CIFAR.
        public static func forImageSize(_ size: Int) -> Stem { size < 64 ? .small : .imagenet }
    }

    var blocksPerStage: [Int] {
        switch self {
        case .resnet18: return [2, 2, 2, 2]
        case .resnet34, .resnet50: return [3, 4, 6, 3]
        }
    }

    var bottleneck: Bool { self == .resnet50 }
    var expansion: Int { bottleneck ? 4 : 1 }
    public var features: Int { 512 * expansion }

    /// The trunk as named stages ("conv1", "bn1", "maxpool", "layer1"…"layer4", "avgpool"), weights drawn
    /// from `rng` (Kaiming normal, fan-out); `zeroResidualGammas(in:)` makes each block start as the identity.
    public func trunk(inputChannels: Int = 3, stem: Stem, backend: ResNetBackend = .oneDNN, precision: Precision = .fp32,
                      rng: inout RandomGenerator, communicator: (any Communicator)?) -> Sequential {
        let make = ResNetBackend.Factory(backend, communicator: communicator, precision: precision)
        func conv(_ inChannels: Int, _ outChannels: Int, _ kernel: Int, stride: Int = 1, first: Bool = false) -> any Layer {
            make.convolution(kaimingNormal(outChannels, inChannels, kernel, &rng), stride: stride, padding: kernel / 2, first: first)
        }
        var layers: [(String, any Layer)] = []
        switch stem {
        case .imagenet:
            layers.append(("conv1", conv(inputChannels, 64, 7, stride: 2, first: true)))
            layers.append(("bn1", make.norm(64, relu: true)))
            layers.append(("maxpool", make.maxPool(kernel: 3, stride: 2, padding: 1)))
        case .small:
            layers.append(("conv1", conv(inputChannels, 64, 3, first: true)))
            layers.append(("bn1", make.norm(64, relu: true)))
        }
        for (stage, plans) in blockPlans.enumerated() {
            var blocks: [(String, any Layer)] = []
            for (b, plan) in plans.enumerated() {
                let convolutions = plan.convolutions.map { conv($0.inChannels, $0.outChannels, $0.kernel, stride: $0.stride) }
                let norms = plan.convolutions.map { make.norm($0.outChannels, relu: true) }
                let downsample = plan.downsample.map { (conv($0.inChannels, $0.outChannels, 1, stride: $0.stride), make.norm($0.outChannels, relu: false)) }
                blocks.append(("\(b)", ResidualBlock(convolutions: convolutions, norms: norms, downsample: downsample, factory: make)))
            }
            layers.append(("layer\(stage + 1)", Sequential(blocks)))
        }
        layers.append(("avgpool", make.globalAveragePool()))
        return Sequential(layers)
    }

    /// Sets the last BatchNorm γ of every residual block in `network` to 0, so each block starts as the
    /// identity (Goyal et al.); returns how many were set.
    @discardableResult
    public static func zeroResidualGammas(in network: any Layer) -> Int {
        if let block = network as? ResidualBlock {
            block.lastNorm.gamma.value.zero()
            return 1
        }
        guard let sequential = network as? Sequential else { return 0 }
        return sequential.layers.reduce(0) { $0 + zeroResidualGammas(in: $1.layer) }
    }

    /// One convolution of a block: 1×1 or 3×3 ("same" padding), or the 1×1 downsample.
    struct ConvolutionShape {
        let inChannels: Int, outChannels: Int, kernel: Int, stride: Int
    }

    /// A residual block's convolutions and, when its shape changes, its downsample.
    struct BlockPlan {
        let convolutions: [ConvolutionShape]
        let downsample: ConvolutionShape?
    }

    /// The blocks of each stage: basic blocks 3×3 → 3×3, bottlenecks 1×1 → 3×3 → 1×1 with the stride on the
    /// 3×3 (torchvision's ResNet v1.5); the first block of stages 2–4 halves the image.
    var blockPlans: [[BlockPlan]] {
        var channels = 64
        return blocksPerStage.enumerated().map { stage, count in
            let width = 64 << stage, out = width * expansion
            return (0..<count).map { b in
                let stride = b == 0 && stage > 0 ? 2 : 1
                let convolutions = bottleneck
                    ? [ConvolutionShape(inChannels: channels, outChannels: width, kernel: 1, stride: 1),
                       ConvolutionShape(inChannels: width, outChannels: width, kernel: 3, stride: stride),
                       ConvolutionShape(inChannels: width, outChannels: out, kernel: 1, stride: 1)]
                    : [ConvolutionShape(inChannels: channels, outChannels: width, kernel: 3, stride: stride),
                       ConvolutionShape(inChannels: width, outChannels: out, kernel: 3, stride: 1)]
                let downsample = stride != 1 || channels != out
                    ? ConvolutionShape(inChannels: channels, outChannels: out, kernel: 1, stride: stride) : nil
                channels = out
                return BlockPlan(convolutions: convolutions, downsample: downsample)
            }
        }
    }

    /// Multiply-adds of one forward pass per image (convolutions only) at `size`×`size`.
    public func forwardMultiplyAdds(imageSize size: Int, stem: Stem) -> Double {
        /// Output side of a "same"-padded convolution, and its multiply-adds on a side×side input.
        func conv(_ c: ConvolutionShape, _ side: Int) -> (side: Int, multiplyAdds: Double) {
            let out = (side + 2 * (c.kernel / 2) - c.kernel) / c.stride + 1
            return (out, Double(c.inChannels * c.outChannels * c.kernel * c.kernel * out * out))
        }
        let first = conv(ConvolutionShape(inChannels: 3, outChannels: 64, kernel: stem == .imagenet ? 7 : 3, stride: stem == .imagenet ? 2 : 1), size)
        var total = first.multiplyAdds
        var side = stem == .imagenet ? (first.side + 2 - 3) / 2 + 1 : first.side   // 3×3/2 max-pool, padding 1
        for plan in blockPlans.joined() {
            let input = side
            for c in plan.convolutions {
                let r = conv(c, side)
                (side, total) = (r.side, total + r.multiplyAdds)
            }
            if let d = plan.downsample { total += conv(d, input).multiplyAdds }
        }
        return total
    }
}

/// Kaiming-normal weights for a ReLU network, fan-out mode: N(0, 2/(out·k·k)), as torchvision initialises ResNets.
func kaimingNormal(_ outChannels: Int, _ inChannels: Int, _ kernel: Int, _ rng: inout RandomGenerator) -> Tensor {
    let w = Tensor(shape: [outChannels, inChannels, kernel, kernel])
    let std = (2 / Float(outChannels * kernel * kernel)).squareRoot()
    for i in 0..<w.count { w[i] = rng.normal() * std }
    return w
}
