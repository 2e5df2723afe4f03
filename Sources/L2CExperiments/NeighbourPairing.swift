import L2CCluster
import L2CRun

/// Whether the clustering network's batches pair target samples with their nearest neighbours, which its pair
/// targets then call similar (`NeighbourPairs`; `--neighbours`).
///
/// An SPN learnt on a few auxiliary classes calls few pairs of unseen classes similar, and few of those rightly,
/// while a sample's nearest neighbours mostly share its class. The README's "Neighbour pairs" has the measurements.
public struct NeighbourPairing: Sendable, Equatable, CustomStringConvertible, Encodable {
    /// Neighbours per sample; nil: `NeighbourTable.trustedCount` of the target, 0: the SPN's pairs alone.
    public var count: Int?

    public init(count: Int? = nil) { self.count = count }

    public static let automatic = NeighbourPairing()
    public static let off = NeighbourPairing(count: 0)

    /// "auto" or the count.
    public init?(_ text: String) {
        if text == "auto" { self.init(); return }
        guard let n = Int(text), n >= 0 else { return nil }
        self.init(count: n)
    }

    public var description: String { count.map(String.init) ?? "auto" }

    /// Encoded as its command-line spelling.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The neighbours per sample for `samples` target samples and K clusters (0: none; never as many as the samples).
    public func neighbours(samples: Int, clusters: Int) -> Int {
        min(count ?? NeighbourTable.trustedCount(samples: samples, clusters: clusters), max(samples - 1, 0))
    }
}
