import L2CTensor
import XCTest

/// Finite-difference check of a layer: L = Σ forward(x) ⊙ R for a fixed random R, so dL/dy = R.
/// Central differences in float32 with step h; compared normwise against the analytic gradient.
enum GradientCheck {
    static func check(_ layer: any Layer, input: Tensor, pass: Pass = Pass(training: true), step h: Float = 1e-2,
                      tolerance: Float = 2e-2, seed: UInt64 = 7, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomGenerator(seed: seed)
        let y0 = layer.forward(input, pass)
        let weights = Tensor(shape: y0.shape)
        for i in 0..<weights.count { weights[i] = rng.normal() }
        let loss = { () -> Double in
            let y = layer.forward(input, pass)
            var s = 0.0
            for i in 0..<y.count { s += Double(y[i]) * Double(weights[i]) }
            return s
        }
        for (_, p) in layer.parameters { p.gradient.zero() }
        _ = layer.forward(input, pass)
        let dx = layer.backward(weights).clone()
        let analytic = [("input", input, dx)] + layer.parameters.map { ($0.name, $0.parameter.value, $0.parameter.gradient.clone()) }
        for (name, tensor, gradient) in analytic {
            var worst: Float = 0
            for i in 0..<tensor.count {
                let saved = tensor[i]
                tensor[i] = saved + h; let plus = loss()
                tensor[i] = saved - h; let minus = loss()
                tensor[i] = saved
                let numeric = Float((plus - minus) / Double(2 * h))
                worst = max(worst, abs(numeric - gradient[i]))
            }
            let scale = max(gradient.maxAbs, 1e-3)
            XCTAssertLessThanOrEqual(worst / scale, tolerance, "\(type(of: layer)) d/d\(name): max error \(worst) vs scale \(scale)", file: file, line: line)
        }
    }

    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t[i] = rng.normal() }
        return t
    }
}
