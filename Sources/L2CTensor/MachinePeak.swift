import Foundation

/// The FP32 peak of this machine's cores, measured with independent fused multiply-add chains on every
/// compute thread (the machine's peak as a benchmark's denominator, not a datasheet figure).
public enum MachinePeak {
    /// GFLOP/s over `threads` concurrent threads (2 FLOP per multiply-add); the best of a few short runs.
    public static func measure(threads: Int, seconds: Double = 0.3) -> Double {
        let iterations = 2_000_000
        var best = 0.0
        let start = Date()
        repeat {
            let t0 = Date()
            DispatchQueue.concurrentPerform(iterations: threads) { i in _ = fmaChains(iterations, Float(i)) }
            let flops = Double(threads * iterations) * 12 * 16 * 2
            best = max(best, flops / Date().timeIntervalSince(t0) / 1e9)
        } while Date().timeIntervalSince(start) < seconds
        return best
    }

    /// Twelve SIMD16 accumulators: enough independent FMAs to cover the latency of two FMA pipes.
    @inline(never)
    static func fmaChains(_ iterations: Int, _ seed: Float) -> Float {
        let m = SIMD16<Float>(repeating: 0.999999), c = SIMD16<Float>(repeating: 1e-7)
        var a = (0..<12).map { SIMD16<Float>(repeating: seed + Float($0)) }
        var (a0, a1, a2, a3, a4, a5) = (a[0], a[1], a[2], a[3], a[4], a[5])
        var (a6, a7, a8, a9, a10, a11) = (a[6], a[7], a[8], a[9], a[10], a[11])
        for _ in 0..<iterations {
            a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m)
            a3 = c.addingProduct(a3, m); a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m)
            a6 = c.addingProduct(a6, m); a7 = c.addingProduct(a7, m); a8 = c.addingProduct(a8, m)
            a9 = c.addingProduct(a9, m); a10 = c.addingProduct(a10, m); a11 = c.addingProduct(a11, m)
        }
        a = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11]
        return a.reduce(SIMD16<Float>(), +).sum()
    }
}
