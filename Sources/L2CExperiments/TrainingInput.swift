import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// Where `l2c train` takes its training batches from: an in-memory dataset, or an image folder decoded
/// batch by batch.
protocol TrainingInput: AnyObject {
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
final class InMemoryInput: TrainingInput {
    let dataset: Dataset
    let optimization: Optimization
    init(_ dataset: Dataset, optimization: Optimization) { (self.dataset, self.optimization) = (dataset, optimization) }

    var count: Int { dataset.count }
    var labels: [Int] { dataset.labels }
    var channels: Int { dataset.channels }
    var height: Int { dataset.height }
    var width: Int { dataset.width }
    var source: String { dataset.source }

    func batch(_ step: StepBatch, communicator: any Communicator) throws -> (images: Tensor, globalLabels: [Int]) {
        (optimization.images(dataset, step.localIndices, step: step.step), step.globalIndices.map { dataset.labels[$0] })
    }
}

/// An image folder through the prefetching JPEG/PNG loader, which follows the training loop's sampler
/// (same sample count, global batch, ranks and seed: the same batches in the same order).
final class StreamingImageInput: TrainingInput {
    let folder: ImageFolder
    let loader: ImageBatchLoader
    let size: Int

    init(_ folder: ImageFolder, size: Int, workers: Int, badImages: BadImagePolicy, optimization: Optimization, firstStep: Int,
         communicator comm: any Communicator, report: @escaping @Sendable (String) -> Void) throws {
        self.folder = folder
        self.size = size
        let sampler = try optimization.sampler(sampleCount: folder.count, communicator: comm)
        loader = ImageBatchLoader(folder: folder, sampler: sampler, augmentation: ImageAugmentation(size: size, mode: .train),
                                  workers: workers, badImages: badImages, seed: optimization.seed, firstBatch: firstStep, report: report)
    }

    var count: Int { folder.count }
    var labels: [Int] { folder.labels }
    var channels: Int { 3 }
    var height: Int { size }
    var width: Int { size }
    var source: String { folder.root }

    func batch(_ step: StepBatch, communicator comm: any Communicator) throws -> (images: Tensor, globalLabels: [Int]) {
        // A bad file on one rank stops every rank (no one is left waiting in the next collective).
        let (images, local) = try comm.checked("reading step \(step.step + 1)'s images") { try loader.next() }
        // Labels of what was actually decoded (a skipped file's replacement has its own), from every rank.
        var mine = local.map(Int64.init)
        var all = [Int64](repeating: 0, count: local.count * comm.size)
        all.withUnsafeMutableBufferPointer { comm.allGather(&mine, count: local.count, into: $0.baseAddress!) }
        return (images, all.map(Int.init))
    }
}
