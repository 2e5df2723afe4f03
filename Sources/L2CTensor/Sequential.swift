/// Named layers applied in order; parameter names follow PyTorch's "layer.parameter" convention.
public final class Sequential: Layer {
    public let layers: [(name: String, layer: any Layer)]
    /// Told after each layer's backward (see `observeBackward`).
    public private(set) weak var backwardObserver: (any BackwardObserver)?

    public init(_ layers: [(String, any Layer)]) {
        self.layers = layers.map { (name: $0.0, layer: $0.1) }
    }

    /// Every layer but the last (the shared layer objects, not copies): a model's backbone without its output layer.
    public var trunk: Sequential { Sequential(layers.dropLast().map { ($0.name, $0.layer) }) }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        layers.reduce(x) { $1.layer.forward($0, pass) }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        for entry in layers.reversed() {
            g = entry.layer.backward(g)
            backwardObserver?.backwardFinished(entry.layer)
        }
        return g
    }

    /// Tells `observer` about every layer whose backward returned, this one's and those of nested `Sequential`s.
    public func observeBackward(_ observer: any BackwardObserver) {
        backwardObserver = observer
        for entry in layers { (entry.layer as? Sequential)?.observeBackward(observer) }
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        layers.flatMap { entry in entry.layer.parameters.map { (name: "\(entry.name).\($0.name)", parameter: $0.parameter) } }
    }

    public var buffers: [(name: String, tensor: Tensor)] {
        layers.flatMap { entry in entry.layer.buffers.map { (name: "\(entry.name).\($0.name)", tensor: $0.tensor) } }
    }

    public func zeroGradients() {
        for (_, p) in parameters { p.gradient.zero() }
    }

    /// Every named tensor a checkpoint holds: parameters, then buffers.
    public var stateTensors: [(name: String, tensor: Tensor)] {
        parameters.map { (name: $0.name, tensor: $0.parameter.value) } + buffers
    }
}
