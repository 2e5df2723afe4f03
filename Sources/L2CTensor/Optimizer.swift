import Foundation

/// Updates parameters from their (already all-reduced) gradients.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    func step(_ parameters: [(name: String, parameter: Parameter)])
}

/// SGD with optional (Nesterov) momentum and L2 weight decay, as torch.optim.SGD:
/// g ← ∇ + λ·w;  v ← μ·v + g;  w ← w − η·(nesterov ? g + μ·v : v).
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        for (_, p) in parameters {
            let w = p.value.data, g = p.gradient.data
            let decay = p.decays ? weightDecay : 0
            if momentum == 0 {
                for i in 0..<p.value.count { w[i] -= learningRate * (g[i] + decay * w[i]) }
                continue
            }
            let v = velocity[ObjectIdentifier(p)] ?? { let t = Tensor(shape: p.value.shape); velocity[ObjectIdentifier(p)] = t; return t }()
            let vd = v.data
            for i in 0..<p.value.count {
                let gi = g[i] + decay * w[i]
                vd[i] = momentum * vd[i] + gi
                w[i] -= learningRate * (nesterov ? gi + momentum * vd[i] : vd[i])
            }
        }
    }
}

/// Adam (Kingma & Ba) with L2 weight decay added to the gradient, as torch.optim.Adam:
/// m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η·m̂/(√v̂ + ε).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let weightDecay: Float
    private var moments: [ObjectIdentifier: (m: Tensor, v: Tensor)] = [:]
    private var steps = 0

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        steps += 1
        let correction1 = 1 - powf(beta1, Float(steps)), correction2 = 1 - powf(beta2, Float(steps))
        let stepSize = learningRate / correction1
        for (_, p) in parameters {
            let state = moments[ObjectIdentifier(p)] ?? {
                let s = (m: Tensor(shape: p.value.shape), v: Tensor(shape: p.value.shape))
                moments[ObjectIdentifier(p)] = s
                return s
            }()
            let w = p.value.data, g = p.gradient.data, m = state.m.data, v = state.v.data
            let decay = p.decays ? weightDecay : 0
            for i in 0..<p.value.count {
                let gi = g[i] + decay * w[i]
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                w[i] -= stepSize * m[i] / ((v[i] / correction2).squareRoot() + epsilon)
            }
        }
    }
}

/// Step schedule: η(step) = η₀ · γ^⌊step / period⌋ (period 0 keeps η₀).
public struct StepSchedule: Sendable {
    public let base: Float
    public let period: Int
    public let gamma: Float
    public init(base: Float, period: Int, gamma: Float) {
        self.base = base
        self.period = period
        self.gamma = gamma
    }
    public func learningRate(atStep step: Int) -> Float {
        period > 0 ? base * powf(gamma, Float(step / period)) : base
    }
}
