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
    /// from `rng` (Kaiming normal, fan-out). `zeroResidualGamma` starts each block's last BatchNorm γ at 0.
    public func trunk(inputChannels: Int = 3, stem: Stem, backend: ResNetBackend = .oneDNN, zeroResidualGamma: Bool = false,
                      rng: inout RandomGenerator, communicator: (any Communicator)?) -> Sequential {
        let make = ResNetBackend.Factory(backend, communicator: communicator)
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
        var channels = 64
        for (stage, count) in blocksPerStage.enumerated() {
            let width = 64 << stage, out = width * expansion
            var blocks: [(String, any Layer)] = []
            for b in 0..<count {
                let stride = b == 0 && stage > 0 ? 2 : 1
                let shapes: [(inC: Int, outC: Int, kernel: Int, stride: Int)] = bottleneck
                    ? [(channels, width, 1, 1), (width, width, 3, stride), (width, out, 1, 1)]
                    : [(channels, width, 3, stride), (width, out, 3, 1)]
                let convolutions = shapes.map { conv($0.inC, $0.outC, $0.kernel, stride: $0.stride) }
                let norms = shapes.indices.map { make.norm(shapes[$0].outC, relu: true) }
                let downsample = stride != 1 || channels != out ? (conv(channels, out, 1, stride: stride), make.norm(out, relu: false)) : nil
                let block = ResidualBlock(convolutions: convolutions, norms: norms, downsample: downsample, factory: make)
                if zeroResidualGamma { block.lastNorm.gamma.value.zero() }
                blocks.append(("\(b)", block))
                channels = out
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

    /// Multiply-adds of one forward pass per image (convolutions only) at `size`×`size`.
    public func forwardMultiplyAdds(imageSize size: Int, stem: Stem) -> Double {
        var total = 0.0
        var side = size
        func conv(_ inC: Int, _ outC: Int, _ kernel: Int, _ stride: Int) {
            side = (side + 2 * (kernel / 2) - kernel) / stride + 1
            total += Double(inC * outC * kernel * kernel) * Double(side * side)
        }
        if stem == .imagenet {
            conv(3, 64, 7, 2)
            side = (side + 2 - 3) / 2 + 1
        } else {
            conv(3, 64, 3, 1)
        }
        var channels = 64
        for (stage, count) in blocksPerStage.enumerated() {
            let width = 64 << stage, out = width * expansion
            for b in 0..<count {
                let stride = b == 0 && stage > 0 ? 2 : 1
                let input = side
                if bottleneck {
                    conv(channels, width, 1, 1); conv(width, width, 3, stride); conv(width, out, 1, 1)
                } else {
                    conv(channels, width, 3, stride); conv(width, out, 3, 1)
                }
                if stride != 1 || channels != out {
                    let after = side
                    side = input
                    conv(channels, out, 1, stride)
                    side = after
                }
                channels = out
            }
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
