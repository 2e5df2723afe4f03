import L2CExperiments
import L2CRun
/// The Hockney model of one collective on p ranks: time = a + b·n for a message of n bytes, with
/// a = steps·α and b = volume·β for a ring algorithm:
///
///     ping-pong (one way)          α + n·β
///     all-reduce                   2(p−1)·α + 2(p−1)/p · n·β
///     all-gather, reduce-scatter   (p−1)·α + (p−1)/p · n·β        (n: the gathered size)
///
/// α is the latency per message (seconds), β the inverse bandwidth (seconds per byte).
public struct HockneyModel: Codable, Equatable, Sendable {
    public enum Collective: String, Codable, CaseIterable, Sendable {
        case pingPong = "pingpong", allReduce = "allreduce", allGather = "allgather", reduceScatter = "reduce_scatter"

        /// Messages in sequence and the fraction of n each rank sends, on p ranks.
        func shape(ranks p: Int) -> (steps: Double, volume: Double) {
            let q = Double(max(p, 1))
            switch self {
            case .pingPong: return (1, 1)
            case .allReduce: return (2 * (q - 1), 2 * (q - 1) / q)
            case .allGather, .reduceScatter: return (q - 1, (q - 1) / q)
            }
        }
    }

    public var alpha: Double
    public var beta: Double

    public init(alpha: Double, beta: Double) {
        self.alpha = alpha
        self.beta = beta
    }

    /// Predicted seconds of `collective` over `bytes` on `ranks` ranks.
    public func seconds(_ collective: Collective, bytes: Double, ranks: Int) -> Double {
        guard ranks > 1 || collective == .pingPong else { return 0 }
        let (steps, volume) = collective.shape(ranks: ranks)
        return steps * alpha + volume * bytes * beta
    }

    /// α and β from measured (bytes, seconds) of `collective` on `ranks` ranks: a least-squares line
    /// t = a + b·n weighted by 1/t², so that the small messages (latency) count as much as the large ones
    /// (bandwidth); then α = a / steps and β = b / volume.
    public static func fit(_ samples: [(bytes: Double, seconds: Double)], collective: Collective, ranks: Int) -> HockneyModel {
        var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
        for (n, t) in samples where t > 0 {
            let w = 1 / (t * t)
            sw += w; sx += w * n; sy += w * t; sxx += w * n * n; sxy += w * n * t
        }
        let determinant = sw * sxx - sx * sx
        var b = determinant != 0 ? (sw * sxy - sx * sy) / determinant : 0
        var a = sw != 0 ? (sy - b * sx) / sw : 0
        if a < 0 { (a, b) = (0, sxy / max(sxx, 1e-300)) }
        b = max(b, 0)
        let (steps, volume) = collective.shape(ranks: ranks)
        return HockneyModel(alpha: a / steps, beta: b / volume)
    }
}
