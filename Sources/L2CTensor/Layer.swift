/// What a forward pass needs to know besides its input.
public struct Pass: Sendable {
    /// Training mode: batch statistics, dropout on, activations kept for backward.
    public var training: Bool
    /// Global index of this rank's first sample in the global batch (dropout masks depend on it).
    public var sampleOffset: Int
    /// Optimisation step, so that each step draws fresh masks.
    public var step: Int
    /// Batch statistics without touching the running ones (a frozen network fed target batches).
    public var keepsRunningStatistics: Bool

    public init(training: Bool, sampleOffset: Int = 0, step: Int = 0, keepsRunningStatistics: Bool = false) {
        self.training = training
        self.sampleOffset = sampleOffset
        self.step = step
        self.keepsRunningStatistics = keepsRunningStatistics
    }

    public static let evaluation = Pass(training: false)
}

/// A trainable tensor and its gradient, with the name it is saved under.
public final class Parameter {
    /// Its own storage, or a view into a model's flat buffers (`FlatParameters`).
    public private(set) var value: Tensor
    public private(set) var gradient: Tensor
    /// Decoupled from the name: BatchNorm's γ/β and biases are usually exempt from weight decay.
    public let decays: Bool

    public init(_ value: Tensor, decays: Bool) {
        self.value = value
        self.gradient = Tensor(shape: value.shape)
        self.decays = decays
    }

    /// Moves value and gradient into the given views (same shape), keeping their contents.
    func rehome(value newValue: Tensor, gradient newGradient: Tensor) {
        precondition(newValue.shape == value.shape && newGradient.shape == value.shape, "rehoming \(value.shape)")
        newValue.copy(from: value)
        newGradient.copy(from: gradient)
        (value, gradient) = (newValue, newGradient)
    }
}

/// A layer with explicit forward and backward passes.
///
/// `forward` keeps what `backward` needs. `backward` takes dL/d(output), *accumulates* dL/d(parameter)
/// into each parameter's gradient, and returns dL/d(input).
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, _ pass: Pass) -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Parameters by local name ("weight", "bias").
    var parameters: [(name: String, parameter: Parameter)] { get }
    /// Non-trainable state saved in checkpoints (BatchNorm's running statistics).
    var buffers: [(name: String, tensor: Tensor)] { get }
}

extension Layer {
    public var parameters: [(name: String, parameter: Parameter)] { [] }
    public var buffers: [(name: String, tensor: Tensor)] { [] }
}
