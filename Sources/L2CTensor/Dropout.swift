/// Inverted dropout: y = x·m/(1−p), m ~ Bernoulli(1−p) in training, y = x in evaluation.
///
/// The mask of an element is a hash of (seed, step, global sample index, element index), so a sample
/// gets the same mask whichever rank holds it: R ranks × B and 1 rank × R·B draw identical masks.
public final class Dropout: Layer {
    public let probability: Float
    public let seed: UInt64
    private var scaleMask: Tensor?
    private var output: Tensor?
    private var gradInput: Tensor?

    public init(_ probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        self.seed = seed
    }

    public func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        guard pass.training, probability > 0 else { scaleMask = nil; return x }
        let mask = Tensor.reuse(&scaleMask, shape: x.shape)
        let y = Tensor.reuse(&output, shape: x.shape)
        let perSample = x.columns
        let keep = 1 / (1 - probability)
        let stepKey = mixKey(seed, UInt64(pass.step))
        for row in 0..<x.rows {
            let sampleKey = mixKey(stepKey, UInt64(pass.sampleOffset + row))
            for c in 0..<perSample {
                let u = Float(mixKey(sampleKey, UInt64(c)) >> 40) * (1.0 / 16_777_216.0)
                let i = row * perSample + c
                mask[i] = u < probability ? 0 : keep
                y[i] = x[i] * mask[i]
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let mask = scaleMask else { return dy }
        let dx = Tensor.reuse(&gradInput, shape: dy.shape)
        for i in 0..<dy.count { dx[i] = dy[i] * mask[i] }
        return dx
    }
}
