import Foundation
import L2CTensor

/// Pair supervision for a global batch with the target's own nearest neighbours called similar:
///   S_ij = +1 when sample j is among sample i's neighbours, i among j's, or both are the same sample;
///   otherwise the base supervision's S_ij (the SPN's prediction).
/// Near neighbours mostly share a class (measured in the README, "Neighbour pairs"), which an SPN trained on other
/// classes often fails to say.
public struct NeighbourPairs: PairSimilarity {
    public let base: any PairSimilarity
    /// The batch's global sample indices, in batch order.
    public let samples: [Int]
    public let table: NeighbourTable

    public init(base: any PairSimilarity, samples: [Int], table: NeighbourTable) {
        precondition(base.count == samples.count, "the base supervision covers \(base.count) samples, the batch \(samples.count)")
        (self.base, self.samples, self.table) = (base, samples, table)
    }

    public var count: Int { samples.count }

    public func fill(rows: Range<Int>, into out: UnsafeMutablePointer<Int8>) {
        base.fill(rows: rows, into: out)
        let n = samples.count
        for (r, i) in rows.enumerated() {
            let a = samples[i]
            for j in 0..<n where j != i {
                let b = samples[j]
                if a == b || table.lists(b, asNeighbourOf: a) || table.lists(a, asNeighbourOf: b) { out[r * n + j] = 1 }
            }
        }
    }

    /// A global batch of pairs: each of its first ⌈B/2⌉ samples followed by one of its k neighbours, drawn from
    /// (seed, step, sample): [a₀, n(a₀), a₁, n(a₁), …], cut to B samples. A random batch of B from N samples would
    /// hold about B²k/N neighbour pairs (3 in a batch of 100 from 30,000 with k = 10); this one holds B/2 or more.
    public static func pairedBatch(_ global: ArraySlice<Int>, table: NeighbourTable, step: Int, seed: UInt64) -> [Int] {
        var batch: [Int] = []
        batch.reserveCapacity(global.count + 1)
        for a in global.prefix((global.count + 1) / 2) {
            var rng = RandomGenerator(seed: mixKey(seed, UInt64(step)), stream: UInt64(a))
            batch.append(a)
            batch.append(Int(table.indices[a * table.k + Int(rng.next() % UInt64(table.k))]))
        }
        return Array(batch.prefix(global.count))
    }
}
