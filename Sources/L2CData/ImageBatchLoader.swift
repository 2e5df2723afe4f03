import Foundation
import L2CComm
import L2CTensor

/// What to do with a file that is not a decodable image.
public enum BadImagePolicy: String, Sendable, CaseIterable {
    /// Stop the run with the file's path and what is wrong with it.
    case fail
    /// Report the path once, count it, and use the next good sample of the folder in its place.
    case skip
}

/// Decodes this rank's shard of each global batch on a pool of worker threads, a few batches ahead.
///
/// Batch t (from `firstBatch`, where a resumed run continues) is epoch t / batchesPerEpoch of `sampler`, so each rank reads only its own images. Workers take
/// (batch, position) tasks in order and write straight into one of `prefetch` batch buffers; a buffer is
/// refilled only after the trainer has asked for the batch after it. Augmentation is keyed by (seed, epoch,
/// sample), so the batches are the same whatever the worker count.
public final class ImageBatchLoader {
    private let state: LoaderState
    private var threads: [Thread] = []

    public init(folder: any ImageSamples, sampler: DistributedSampler, augmentation: ImageAugmentation, workers: Int,
                prefetch: Int = 3, badImages: BadImagePolicy, seed: UInt64, firstBatch: Int = 0,
                report: @escaping @Sendable (String) -> Void = { _ in }) {
        state = LoaderState(folder: folder, sampler: sampler, augmentation: augmentation, prefetch: max(prefetch, 1),
                            badImages: badImages, seed: seed, firstBatch: firstBatch, report: report)
        for w in 0..<max(workers, 1) {
            let state = self.state
            let thread = Thread { state.work() }
            thread.name = "l2c-decode-\(w)"
            thread.start()
            threads.append(thread)
        }
    }

    deinit { state.stop() }

    /// The next batch: images N×3×size×size (normalised), labels. The tensor is reused a few batches later.
    public func next() throws -> (images: Tensor, labels: [Int]) {
        try state.next().get()
    }

    public var skippedImages: Int { state.skippedCount }
}

/// The shared queue behind `ImageBatchLoader`; workers and the trainer meet on one condition variable.
final class LoaderState: @unchecked Sendable {
    let folder: any ImageSamples
    let sampler: DistributedSampler
    let augmentation: ImageAugmentation
    let badImages: BadImagePolicy
    let seed: UInt64
    let report: @Sendable (String) -> Void
    private let condition = NSCondition()
    private let slots: [Slot]
    private var consumed = 0         // batches handed out and given back
    private var nextTask = 0         // batch·local + position
    private var stopped = false
    private var bad: Set<Int> = []
    private var orders: [Int: [Int]] = [:]

    final class Slot {
        var batch = -1
        var done = 0
        var error: Error?
        let images: Tensor
        var labels: [Int]
        init(_ local: Int, _ size: Int) {
            images = Tensor(shape: [local, 3, size, size])
            labels = [Int](repeating: 0, count: local)
        }
    }

    init(folder: any ImageSamples, sampler: DistributedSampler, augmentation: ImageAugmentation, prefetch: Int,
         badImages: BadImagePolicy, seed: UInt64, firstBatch: Int, report: @escaping @Sendable (String) -> Void) {
        consumed = firstBatch
        nextTask = firstBatch * sampler.localBatch
        self.folder = folder
        self.sampler = sampler
        self.augmentation = augmentation
        self.badImages = badImages
        self.seed = seed
        self.report = report
        slots = (0..<prefetch).map { _ in Slot(sampler.localBatch, augmentation.size) }
    }

    var skippedCount: Int { condition.lock(); defer { condition.unlock() }; return bad.count }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func next() -> Result<(images: Tensor, labels: [Int]), Error> {
        condition.lock()
        defer { condition.unlock() }
        let slot = slots[consumed % slots.count]
        while !(slot.batch == consumed && slot.done == sampler.localBatch) { condition.wait() }
        consumed += 1   // the trainer is done with the batch before: its buffer may be refilled
        condition.broadcast()
        if let error = slot.error { return .failure(error) }
        return .success((slot.images, slot.labels))
    }

    /// A worker: take the next task whose buffer is free, decode, render, mark it done.
    func work() {
        let decoder = ImageDecoder()
        let local = sampler.localBatch
        while true {
            condition.lock()
            var task = nextTask
            // Batch b may use its buffer once batch b − prefetch has been handed out and given back:
            // the trainer holds at most the one batch it is training on.
            while !stopped && task / local >= consumed + slots.count - 1 { condition.wait(); task = nextTask }
            if stopped { condition.unlock(); return }
            nextTask += 1
            let batch = task / local, position = task % local
            let slot = slots[batch % slots.count]
            if slot.batch != batch {
                slot.batch = batch
                slot.done = 0
                slot.error = nil
            }
            let sample = sampleIndex(batch: batch, position: position)
            condition.unlock()

            let epoch = batch / sampler.batchesPerEpoch
            let outcome = load(sample, epoch: epoch, decoder: decoder,
                               into: slot.images.data + position * 3 * augmentation.size * augmentation.size)

            condition.lock()
            switch outcome {
            case .success(let label): slot.labels[position] = label
            case .failure(let error): slot.error = slot.error ?? error
            }
            slot.done += 1
            if slot.done == local { condition.broadcast() }
            condition.unlock()
        }
    }

    /// Sample index of (batch, position); the caller holds the lock.
    private func sampleIndex(batch: Int, position: Int) -> Int {
        let epoch = batch / sampler.batchesPerEpoch
        if orders[epoch] == nil {
            orders = orders.filter { $0.key >= epoch - 1 }
            orders[epoch] = sampler.order(epoch: epoch)
        }
        let shard = sampler.shard(orders[epoch]!, batch: batch % sampler.batchesPerEpoch)
        return shard[shard.startIndex + position]
    }

    /// Decodes `sample` (or, skipping bad files, the next good one after it) into `output`; returns its label.
    private func load(_ sample: Int, epoch: Int, decoder: ImageDecoder, into output: UnsafeMutablePointer<Float>) -> Result<Int, Error> {
        var index = sample
        for _ in 0..<folder.count {
            condition.lock()
            let known = bad.contains(index)
            condition.unlock()
            if !known {
                do {
                    try augmentation.load(folder, sample: index, decoder: decoder, seed: seed, epoch: epoch, into: output)
                    return .success(folder.labels[index])
                } catch {
                    guard badImages == .skip else { return .failure(error) }
                    condition.lock()
                    let first = bad.insert(index).inserted
                    condition.unlock()
                    if first { report("skipping \(error)") }
                }
            }
            index = (index + 1) % folder.count
        }
        return .failure(InputError(folder.root, "no decodable image among its \(folder.count) samples"))
    }
}
