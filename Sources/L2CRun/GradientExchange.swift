import L2CComm

/// How the ranks sum their gradients each step.
public struct GradientExchange: Sendable, Equatable {
    /// All-reduce buckets on a communication thread while backward continues (false: one blocking all-reduce
    /// of every gradient after backward).
    public var overlap = true
    /// Size of one all-reduce bucket. Small buckets keep little gradient traffic queued ahead of synchronised
    /// BatchNorm's small collectives in backward (same links); the default was the fastest size measured
    /// (BENCHMARKS.md, "Overlapping the gradient all-reduce").
    public var bucketMegabytes = 0.5

    /// How gradients travel: fp32, or bf16 with sums formed in fp32 (half the bytes).
    public var precision: WirePrecision = .fp32

    public init() {}

    /// Floats per bucket, a multiple of 16 (64 bytes).
    public var bucketFloats: Int { max(16, Int(bucketMegabytes * 1_048_576 / 4) / 16 * 16) }

    var fingerprint: String { "\(overlap)|\(bucketMegabytes)|\(precision.rawValue)" }

    package func validate() throws {
        guard bucketMegabytes > 0, bucketMegabytes.isFinite else {
            throw InputError("--bucket-mb", "must be a positive size in MB, got \(bucketMegabytes)")
        }
    }
}
