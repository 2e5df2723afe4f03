/// LARS (You, Gitman & Ginsburg, 2017): SGD with momentum whose step for each layer is scaled by a trust
/// ratio, so that every layer moves by about the same fraction of its weights however large the global batch:
///
///     local η = η · τ · ‖w‖ / (‖∇‖ + λ‖w‖)       (η when ‖w‖ or ‖∇‖ is 0)
///     v ← μ·v + local η · (∇ + λ·w);   w ← w − v
///
/// Parameters exempt from weight decay (biases, BatchNorm's γ and β) skip the trust ratio and take plain
/// momentum steps with η, as in the LARS ImageNet recipes. State: `optimizer.<param>.momentum_buffer`.
public final class LARS: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    /// τ, the trust coefficient.
    public let trust: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]
    public var stepCount = 0

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0, trust: Float = 0.001) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.trust = trust
    }

    private func velocity(_ p: Parameter) -> Tensor {
        velocity[ObjectIdentifier(p)] ?? { let t = Tensor(shape: p.value.shape); velocity[ObjectIdentifier(p)] = t; return t }()
    }

    public func namedState(_ parameters: [(name: String, parameter: Parameter)]) -> [(name: String, tensor: Tensor)] {
        parameters.map { (name: "optimizer.\($0.name).momentum_buffer", tensor: velocity($0.parameter)) }
    }

    /// The learning rate `p` takes this step: η scaled by its trust ratio (or η alone for exempt parameters).
    public func localLearningRate(_ p: Parameter) -> Float {
        guard p.decays else { return learningRate }
        let w = p.value.data, g = p.gradient.data
        var ww = 0.0, gg = 0.0
        for i in 0..<p.value.count {
            ww += Double(w[i]) * Double(w[i])
            gg += Double(g[i]) * Double(g[i])
        }
        let wNorm = ww.squareRoot(), gNorm = gg.squareRoot()
        guard wNorm > 0, gNorm > 0 else { return learningRate }
        return learningRate * Float(Double(trust) * wNorm / (gNorm + Double(weightDecay) * wNorm))
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        stepCount += 1
        for (_, p) in parameters {
            let rate = localLearningRate(p)
            let w = p.value.data, g = p.gradient.data, v = velocity(p).data
            let decay = p.decays ? weightDecay : 0
            for i in 0..<p.value.count {
                v[i] = momentum * v[i] + rate * (g[i] + decay * w[i])
                w[i] -= v[i]
            }
        }
    }
}
