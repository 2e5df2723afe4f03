import Foundation

/// What the unlabelled target's own geometry says of its pairs, laid over the SPN's predictions: a sample's
/// nearest neighbours are similar (`NeighbourPairs`, which wins), and with a feature space, pairs farther apart than
/// the median pair are dissimilar (`FarPairs`); the SPN decides the rest.
public struct TargetGeometry: Sendable {
    /// Each target sample's nearest neighbours, or nil (`--neighbours 0`).
    public let neighbours: NeighbourTable?
    /// The space in which far pairs are called dissimilar, or nil (no far pairs).
    public let far: FarPairs.Space?

    public init(neighbours: NeighbourTable?, far: FarPairs.Space?) { (self.neighbours, self.far) = (neighbours, far) }

    /// The global batch the clustering network sees: with neighbours, its first half each followed by a neighbour.
    public func batch(_ global: ArraySlice<Int>, step: Int, seed: UInt64) -> [Int] {
        neighbours.map { NeighbourPairs.pairedBatch(global, table: $0, step: step, seed: seed) } ?? Array(global)
    }

    /// The pair targets of `samples` (a batch from `batch`): far pairs, then neighbours, over `base`.
    public func pairs(over base: any PairSimilarity, samples: [Int]) -> any PairSimilarity {
        var pairs = base
        if let far { pairs = FarPairs(base: pairs, samples: samples, space: far) }
        if let neighbours { pairs = NeighbourPairs(base: pairs, samples: samples, table: neighbours) }
        return pairs
    }
}
