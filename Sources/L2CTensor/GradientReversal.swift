/// The gradient-reversal layer of domain-adversarial training (Ganin & Lempitsky): the identity forward, and
/// −λ times the incoming gradient backward, so that the layers before it learn to make the domain head fail.
public final class GradientReversal: Layer {
    /// λ: the weight of the reversed gradient (DANN raises it from 0 to 1 over training).
    public var lambda: Float

    public init(lambda: Float = 1) { self.lambda = lambda }

    public func forward(_ input: Tensor, _ pass: Pass) -> Tensor { input }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let g = Tensor(shape: gradOutput.shape)
        for i in 0..<g.count { g[i] = -lambda * gradOutput[i] }
        return g
    }
}
