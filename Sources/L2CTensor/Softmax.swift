import Foundation

/// Row-wise softmax and its adjoint; the losses work on probabilities or log-probabilities of [rows, classes].
public enum Softmax {
    /// p[i] = exp(z[i] − max z) / Σ exp(z − max z), row by row.
    public static func forward(_ logits: Tensor, into probs: Tensor) {
        let (rows, classes) = (logits.rows, logits.columns)
        for r in 0..<rows {
            let z = logits.data + r * classes, p = probs.data + r * classes
            var m = -Float.infinity
            for k in 0..<classes { m = max(m, z[k]) }
            var s: Float = 0
            for k in 0..<classes { p[k] = expf(z[k] - m); s += p[k] }
            let inv = 1 / s
            for k in 0..<classes { p[k] *= inv }
        }
    }

    public static func forward(_ logits: Tensor) -> Tensor {
        let p = Tensor(shape: logits.shape)
        forward(logits, into: p)
        return p
    }

    /// dL/dz[i] = p[i]·(g[i] − Σ_k g[k]·p[k]) where g = dL/dp.
    public static func backward(probs: Tensor, gradProbs: Tensor) -> Tensor {
        let (rows, classes) = (probs.rows, probs.columns)
        let dz = Tensor(shape: probs.shape)
        for r in 0..<rows {
            let p = probs.data + r * classes, g = gradProbs.data + r * classes, d = dz.data + r * classes
            var dot: Float = 0
            for k in 0..<classes { dot += g[k] * p[k] }
            for k in 0..<classes { d[k] = p[k] * (g[k] - dot) }
        }
        return dz
    }

    /// log p = z − max z − log Σ exp(z − max z), row by row.
    public static func logForward(_ logits: Tensor) -> Tensor {
        let (rows, classes) = (logits.rows, logits.columns)
        let out = Tensor(shape: logits.shape)
        for r in 0..<rows {
            let z = logits.data + r * classes, o = out.data + r * classes
            var m = -Float.infinity
            for k in 0..<classes { m = max(m, z[k]) }
            var s: Float = 0
            for k in 0..<classes { s += expf(z[k] - m) }
            let lse = m + logf(s)
            for k in 0..<classes { o[k] = z[k] - lse }
        }
        return out
    }
}
