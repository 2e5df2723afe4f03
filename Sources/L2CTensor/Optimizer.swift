import Foundation

/// Updates parameters from their (already all-reduced) gradients.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    func step(_ parameters: [(name: String, parameter: Parameter)])
    /// Steps taken so far (Adam's bias correction depends on it).
    var stepCount: Int { get set }
    /// The optimizer's tensors by the names a PyTorch user knows them under: `optimizer.<parameter>.exp_avg`,
    /// `.exp_avg_sq` (Adam), `.momentum_buffer` (SGD with momentum). Missing ones are created as zeros, which
    /// is what a state that has not stepped yet holds, so restoring into them continues bit for bit.
    func namedState(_ parameters: [(name: String, parameter: Parameter)]) -> [(name: String, tensor: Tensor)]
}

/// SGD with optional (Nesterov) momentum and L2 weight decay, as torch.optim.SGD:
/// g ← ∇ + λ·w;  v ← μ·v + g;  w ← w − η·(nesterov ? g + μ·v : v).
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var velocity: [ObjectIdentifier: Tensor] = [:]
    public var stepCount = 0

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    private func velocity(_ p: Parameter) -> Tensor {
        velocity[ObjectIdentifier(p)] ?? { let t = Tensor(shape: p.value.shape); velocity[ObjectIdentifier(p)] = t; return t }()
    }

    public func namedState(_ parameters: [(name: String, parameter: Parameter)]) -> [(name: String, tensor: Tensor)] {
        momentum == 0 ? [] : parameters.map { (name: "optimizer.\($0.name).momentum_buffer", tensor: velocity($0.parameter)) }
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        stepCount += 1
        for (_, p) in parameters {
            let w = p.value.data, g = p.gradient.data
            let decay = p.decays ? weightDecay : 0
            if momentum == 0 {
                for i in 0..<p.value.count { w[i] -= learningRate * (g[i] + decay * w[i]) }
                continue
            }
            let vd = velocity(p).data
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
    public var stepCount = 0

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    private func moments(_ p: Parameter) -> (m: Tensor, v: Tensor) {
        moments[ObjectIdentifier(p)] ?? {
            let s = (m: Tensor(shape: p.value.shape), v: Tensor(shape: p.value.shape))
            moments[ObjectIdentifier(p)] = s
            return s
        }()
    }

    public func namedState(_ parameters: [(name: String, parameter: Parameter)]) -> [(name: String, tensor: Tensor)] {
        parameters.flatMap { entry -> [(name: String, tensor: Tensor)] in
            let s = moments(entry.parameter)
            return [(name: "optimizer.\(entry.name).exp_avg", tensor: s.m), (name: "optimizer.\(entry.name).exp_avg_sq", tensor: s.v)]
        }
    }

    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        stepCount += 1
        let correction1 = 1 - powf(beta1, Float(stepCount)), correction2 = 1 - powf(beta2, Float(stepCount))
        let stepSize = learningRate / correction1
        for (_, p) in parameters {
            let state = moments(p)
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

/// The learning rate at each step: a linear warm-up over `warmupSteps`, then step decay or a cosine to zero.
///
///     warm-up (t < W):  η(t) = η₀ · (t + 1) / W
///     step:             η(t) = η₀ · γ^⌊t / period⌋           (period 0 keeps η₀)
///     cosine:           η(t) = η₀ · ½ (1 + cos(π · (t − W) / (T − W)))   over T steps in all
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Decay: Sendable, Equatable {
        case step(period: Int, gamma: Float)
        case cosine(totalSteps: Int)
        /// DANN's annealing (Ganin & Lempitsky): lr / (1 + 10p)^0.75 over training progress p ∈ [0, 1].
        case dann(totalSteps: Int)
    }
    public let base: Float
    public let warmupSteps: Int
    public let decay: Decay

    public init(base: Float, warmupSteps: Int = 0, decay: Decay = .step(period: 0, gamma: 1)) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        switch decay {
        case .step(let period, let gamma):
            return period > 0 ? base * powf(gamma, Float(step / period)) : base
        case .cosine(let total):
            let span = max(1, total - warmupSteps)
            let progress = min(1, Double(step - warmupSteps) / Double(span))
            return base * Float(0.5 * (1 + cos(Double.pi * progress)))
        case .dann(let total):
            let progress = min(1, Double(step - warmupSteps) / Double(max(1, total - 1 - warmupSteps)))
            return base * Float(1 / pow(1 + 10 * progress, 0.75))
        }
    }
}
