import L2CComm
import L2CTensor

/// Global batches over a dataset, sharded over ranks.
///
/// Each epoch is a permutation drawn from (seed, epoch); global batch b is positions b·G ..< (b+1)·G of it
/// (a last partial batch is dropped), and rank r of R takes the contiguous shard r·G/R ..< (r+1)·G/R.
/// The global batches do not depend on R, so R ranks × G/R see exactly what 1 rank × G sees.
public struct DistributedSampler: Sendable {
    public let sampleCount: Int
    public let globalBatch: Int
    public let rank: Int
    public let ranks: Int
    public let seed: UInt64

    public init(sampleCount: Int, globalBatch: Int, rank: Int, ranks: Int, seed: UInt64) throws {
        guard globalBatch % ranks == 0 else {
            throw InputError("--batch-size", "global batch \(globalBatch) is not divisible by the \(ranks) ranks")
        }
        guard globalBatch > 0, globalBatch <= sampleCount else {
            throw InputError("--batch-size", "global batch \(globalBatch) must be between 1 and the \(sampleCount) training samples")
        }
        self.sampleCount = sampleCount
        self.globalBatch = globalBatch
        self.rank = rank
        self.ranks = ranks
        self.seed = seed
    }

    public var localBatch: Int { globalBatch / ranks }
    public var batchesPerEpoch: Int { sampleCount / globalBatch }

    /// The permutation of one epoch.
    public func order(epoch: Int) -> [Int] {
        var rng = RandomGenerator(seed: seed, stream: 0x5348_5546 &+ UInt64(epoch))
        return rng.permutation(sampleCount)
    }

    /// Sample indices of this rank's shard of global batch `batch` within `order`.
    public func shard(_ order: [Int], batch: Int) -> ArraySlice<Int> {
        let start = batch * globalBatch + rank * localBatch
        return order[start..<(start + localBatch)]
    }

    /// Sample indices of the whole global batch (every rank's shard, in rank order).
    public func globalBatchIndices(_ order: [Int], batch: Int) -> ArraySlice<Int> {
        order[(batch * globalBatch)..<((batch + 1) * globalBatch)]
    }
}
