/// How the ranks sum their gradients each step.
public struct GradientExchange: Sendable, Equatable {
    /// All-reduce buckets on a communication thread while backward continues (false: one blocking all-reduce
    /// of every gradient after backward).
    public var overlap = true
    /// Size of one all-reduce bucket.
    public var bucketMegabytes = 4.0

    public init() {}

    /// Floats per bucket, a multiple of 16 (64 bytes).
    public var bucketFloats: Int { max(16, Int(bucketMegabytes * 1_048_576 / 4) / 16 * 16) }

    var fingerprint: String { "\(overlap)|\(bucketMegabytes)" }

    func validate() throws {
        guard bucketMegabytes > 0, bucketMegabytes.isFinite else {
            throw ConfigError("--bucket-mb", "must be a positive size in MB, got \(bucketMegabytes)")
        }
    }
}
