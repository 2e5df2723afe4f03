import L2CComm
import L2CTensor

/// Which samples form each global batch.
public protocol BatchSchedule: Sendable {
    var globalBatch: Int { get }
    var batchesPerEpoch: Int { get }
    /// The global batches of one epoch, each in the order ranks take their contiguous shards.
    /// Called once per epoch, so that shuffling costs O(samples) per epoch, not per step.
    func epochBatches(_ epoch: Int) -> [[Int]]
}

extension DistributedSampler: BatchSchedule {
    public func epochBatches(_ epoch: Int) -> [[Int]] {
        let order = order(epoch: epoch)
        return (0..<batchesPerEpoch).map { Array(globalBatchIndices(order, batch: $0)) }
    }
}

/// Class-balanced global batches, as L2C draws them for the similarity network: `classesPerBatch` classes
/// × `samplesPerClass` samples each, so that a batch holds similar pairs even when there are hundreds of
/// classes. Each epoch visits the classes in a seeded order; the samples of a class are drawn from a
/// seeded permutation of that class (with wrap-around for small classes).
public struct BalancedClassSampler: BatchSchedule {
    public let classesPerBatch: Int
    public let samplesPerClass: Int
    public let seed: UInt64
    let samplesOfClass: [[Int]]

    public init(labels: [Int], classesPerBatch: Int, samplesPerClass: Int, seed: UInt64) throws {
        var byClass: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
        samplesOfClass = byClass.keys.sorted().map { byClass[$0]! }
        guard classesPerBatch >= 2, classesPerBatch <= samplesOfClass.count else {
            throw InputError("--classes-per-batch", "must be between 2 and the \(samplesOfClass.count) classes, got \(classesPerBatch)")
        }
        guard samplesPerClass >= 2 else { throw InputError("--samples-per-class", "must be at least 2, got \(samplesPerClass)") }
        self.classesPerBatch = classesPerBatch
        self.samplesPerClass = samplesPerClass
        self.seed = seed
    }

    public var globalBatch: Int { classesPerBatch * samplesPerClass }
    public var batchesPerEpoch: Int { samplesOfClass.count / classesPerBatch }

    public func epochBatches(_ epoch: Int) -> [[Int]] {
        var classRng = RandomGenerator(seed: seed, stream: 0x4241_4C00 &+ UInt64(epoch))
        let classOrder = classRng.permutation(samplesOfClass.count)
        return (0..<batchesPerEpoch).map { batch in
            var indices: [Int] = []
            for slot in 0..<classesPerBatch {
                let members = samplesOfClass[classOrder[batch * classesPerBatch + slot]]
                var rng = RandomGenerator(seed: seed, stream: mixKey(UInt64(epoch), UInt64(batch * classesPerBatch + slot)))
                let order = rng.permutation(members.count)
                indices += (0..<samplesPerClass).map { members[order[$0 % members.count]] }
            }
            return indices
        }
    }
}
