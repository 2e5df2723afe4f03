import CPeak
import Foundation

/// What this CPU executes natively (CPUID, with the register state the OS enables).
public struct CPUFeatures: Sendable, Equatable {
    public var avx2FMA: Bool
    public var avx512: Bool
    public var avx512BF16: Bool
    public var amxBF16: Bool

    public init(avx2FMA: Bool, avx512: Bool, avx512BF16: Bool, amxBF16: Bool) {
        (self.avx2FMA, self.avx512, self.avx512BF16, self.amxBF16) = (avx2FMA, avx512, avx512BF16, amxBF16)
    }

    /// This machine's.
    public static let detected: CPUFeatures = {
        let f = cpeak_detect()
        return CPUFeatures(avx2FMA: f.avx2_fma != 0, avx512: f.avx512f != 0, avx512BF16: f.avx512_bf16 != 0, amxBF16: f.amx_bf16 != 0)
    }()

    /// Native bf16 arithmetic: AVX512_BF16 dot products or AMX tiles.
    public var nativeBF16: Bool { avx512BF16 || amxBF16 }

    /// The widest FP32 fused multiply-add: "avx512" (16 lanes) or "avx2" (8 lanes).
    public var widestFMA: String { avx512 ? "avx512" : "avx2" }
}

/// The peak arithmetic rate of this machine's cores, measured with independent chains of the widest
/// instructions the CPU has on every compute thread (a benchmark's honest denominator, not a datasheet
/// figure): FP32 with 512-bit FMAs where AVX-512 is present, 256-bit otherwise; bf16 with VDPBF16PS.
public enum MachinePeak {
    /// FP32 GFLOP/s over `threads` concurrent threads (2 FLOP per multiply-add); the best of a few short runs.
    public static func measure(threads: Int, features: CPUFeatures = .detected, seconds: Double = 0.3) -> Double {
        let lanes = features.avx512 ? 16 : 8
        return best(threads: threads, flopsPerRound: 12 * Double(lanes) * 2, seconds: seconds) { iterations, seed in
            _ = features.avx512 ? cpeak_fma512(iterations, seed) : cpeak_fma256(iterations, seed)
        }
    }

    /// bf16 dot-product GFLOP/s (each VDPBF16PS lane: two products and their sum into fp32), or nil where the CPU
    /// has no AVX512_BF16.
    public static func measureBF16(threads: Int, features: CPUFeatures = .detected, seconds: Double = 0.3) -> Double? {
        guard features.avx512BF16 else { return nil }
        return best(threads: threads, flopsPerRound: 12 * 32 * 2, seconds: seconds) { iterations, seed in
            _ = cpeak_dpbf16(iterations, seed)
        }
    }

    private static func best(threads: Int, flopsPerRound: Double, seconds: Double, kernel: @escaping @Sendable (Int, Float) -> Void) -> Double {
        let iterations = 2_000_000
        var best = 0.0
        let start = Date()
        repeat {
            let t0 = Date()
            DispatchQueue.concurrentPerform(iterations: threads) { i in kernel(iterations, Float(i)) }
            best = max(best, Double(threads * iterations) * flopsPerRound / Date().timeIntervalSince(t0) / 1e9)
        } while Date().timeIntervalSince(start) < seconds
        return best
    }
}
