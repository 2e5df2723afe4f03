import L2CComm

/// The network architectures L2C trains.
///
/// Every network is a feature backbone followed by one Linear layer to the outputs (clusters, classes or ACOL
/// nodes); the SPN puts its pair head on the same backbone. Layers followed by BatchNorm have no bias:
/// BatchNorm removes any constant, so such a bias would only collect rounding noise (which Adam amplifies).
public enum Architecture: String, CaseIterable, Sendable {
    case mlp
    case lenet
    case resnet18
    case resnet34
    case resnet50

    /// The feature extractor for inputs of `channels`×`height`×`width`, and its feature width.
    /// `precision` applies to the ResNets' convolutions (LeNet and the MLP run fp32).
    public func backbone(channels: Int, height: Int, width: Int, precision: Precision = .fp32, rng: inout RandomGenerator,
                         communicator: (any Communicator)?) -> (network: Sequential, features: Int) {
        switch self {
        case .resnet18, .resnet34, .resnet50:
            // oneDNN ResNet on blocked activations; the small-image stem below 64 pixels a side.
            let resnet = ResNet(rawValue: rawValue)!
            let trunk = resnet.trunk(inputChannels: channels, stem: .forImageSize(min(height, width)), precision: precision, rng: &rng,
                                     communicator: communicator)
            return (trunk, resnet.features)
        case .mlp:
            // The L2C MLP: in → 1000 → 1000, BatchNorm and ReLU after each.
            let inputs = channels * height * width
            return (Sequential([
                ("flatten", Flatten()),
                ("fc1", Linear(inputs, 1000, bias: false, rng: &rng)),
                ("bn1", BatchNorm(1000, communicator: communicator)),
                ("relu1", ReLU()),
                ("fc2", Linear(1000, 1000, bias: false, rng: &rng)),
                ("bn2", BatchNorm(1000, communicator: communicator)),
                ("relu2", ReLU()),
            ]), 1000)
        case .lenet:
            // LeNet with BatchNorm: conv5(20) → pool → conv5(50) → pool → fc(500).
            let h1 = (height - 4) / 2, w1 = (width - 4) / 2
            let h2 = (h1 - 4) / 2, w2 = (w1 - 4) / 2
            precondition(h2 > 0 && w2 > 0, "LeNet needs inputs of at least 16×16, got \(height)×\(width)")
            return (Sequential([
                ("conv1", Conv2d(channels, 20, kernel: 5, bias: false, rng: &rng)),
                ("bn1", BatchNorm(20, communicator: communicator)),
                ("relu1", ReLU()),
                ("pool1", MaxPool2d(kernel: 2)),
                ("conv2", Conv2d(20, 50, kernel: 5, bias: false, rng: &rng)),
                ("bn2", BatchNorm(50, communicator: communicator)),
                ("relu2", ReLU()),
                ("pool2", MaxPool2d(kernel: 2)),
                ("flatten", Flatten()),
                ("fc1", Linear(50 * h2 * w2, 500, bias: false, rng: &rng)),
                ("bn3", BatchNorm(500, communicator: communicator)),
                ("relu3", ReLU()),
            ]), 500)
        }
    }

    public var isResNet: Bool { ResNet(rawValue: rawValue) != nil }

    /// Name of the output Linear layer in checkpoints.
    public var outputLayerName: String {
        switch self {
        case .mlp: return "fc3"
        case .lenet: return "fc2"
        case .resnet18, .resnet34, .resnet50: return "fc"
        }
    }

    /// Backbone plus a Linear layer to `outputs`, initialised from `seed`.
    /// BatchNorm layers synchronise their statistics through `communicator`.
    public func build(channels: Int, height: Int, width: Int, outputs: Int, seed: UInt64, precision: Precision = .fp32,
                      communicator: (any Communicator)?) -> Sequential {
        var rng = RandomGenerator(seed: seed, stream: 0x1417)
        let (network, features) = backbone(channels: channels, height: height, width: width, precision: precision, rng: &rng, communicator: communicator)
        return Sequential(network.layers.map { ($0.name, $0.layer) } + [(outputLayerName, Linear(features, outputs, rng: &rng))])
    }
}
