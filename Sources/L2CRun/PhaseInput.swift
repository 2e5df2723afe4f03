import L2CComm
import L2CData
import L2CTensor

/// Where a phase takes its training batches from: an in-memory dataset, an image folder decoded batch by batch,
/// or (in `l2c bench`) one synthetic batch. The one input abstraction of training and benchmarks.
public protocol PhaseInput: AnyObject {
    var count: Int { get }
    var labels: [Int] { get }
    var channels: Int { get }
    var height: Int { get }
    var width: Int { get }
    var source: String { get }
    /// This rank's images of the step and the labels of the whole global batch (every rank's, in rank order).
    func batch(_ step: StepBatch, communicator: any Communicator) throws -> (images: Tensor, globalLabels: [Int])
}

/// IDX, CSV and the other in-memory formats.
public final class InMemoryInput: PhaseInput {
    let dataset: Dataset
    let optimization: Optimization
    public init(_ dataset: Dataset, optimization: Optimization) { (self.dataset, self.optimization) = (dataset, optimization) }

    public var count: Int { dataset.count }
    public var labels: [Int] { dataset.labels }
    public var channels: Int { dataset.channels }
    public var height: Int { dataset.height }
    public var width: Int { dataset.width }
    public var source: String { dataset.source }

    public func batch(_ step: StepBatch, communicator: any Communicator) throws -> (images: Tensor, globalLabels: [Int]) {
        (optimization.images(dataset, step.localIndices, step: step.step), step.globalIndices.map { dataset.labels[$0] })
    }
}

/// An image folder through the prefetching JPEG/PNG loader, which follows the training loop's sampler
/// (same sample count, global batch, ranks and seed: the same batches in the same order).
public final class StreamingImageInput: PhaseInput {
    public let folder: any ImageSamples
    public let loader: ImageBatchLoader
    let size: Int

    public init(_ folder: any ImageSamples, size: Int, workers: Int, badImages: BadImagePolicy, optimization: Optimization, firstStep: Int,
         communicator comm: any Communicator, report: @escaping @Sendable (String) -> Void) throws {
        self.folder = folder
        self.size = size
        let sampler = try optimization.sampler(sampleCount: folder.count, communicator: comm)
        loader = ImageBatchLoader(folder: folder, sampler: sampler, augmentation: ImageAugmentation(size: size, mode: .train),
                                  workers: workers, badImages: badImages, seed: optimization.seed, firstBatch: firstStep, report: report)
    }

    public var count: Int { folder.count }
    public var labels: [Int] { folder.labels }
    public var channels: Int { 3 }
    public var height: Int { size }
    public var width: Int { size }
    public var source: String { folder.root }

    public func batch(_ step: StepBatch, communicator comm: any Communicator) throws -> (images: Tensor, globalLabels: [Int]) {
        // A bad file on one rank stops every rank (no one is left waiting in the next collective).
        let (images, local) = try comm.checked("reading step \(step.step + 1)'s images") { try loader.next() }
        // Labels of what was actually decoded (a skipped file's replacement has its own), from every rank.
        var mine = local.map(Int64.init)
        var all = [Int64](repeating: 0, count: local.count * comm.size)
        all.withUnsafeMutableBufferPointer { comm.allGather(&mine, count: local.count, into: $0.baseAddress!) }
        return (images, all.map(Int.init))
    }
}
