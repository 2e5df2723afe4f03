import Foundation
import L2CComm
import L2CTensor

/// Image folders as in-memory datasets, for scoring: every image through the evaluation transform.
public enum ImageFolderDataset {
    /// Decodes every image of `folder` (shorter side to size/0.875, centre size×size crop, normalised) on
    /// `threads` threads. A file that is not a decodable image is an error naming it.
    public static func load(_ folder: any ImageSamples, size: Int, threads: Int, maxBytes: Int = 8 << 30) throws -> Dataset {
        let perImage = 3 * size * size
        let bytes = folder.count * perImage * MemoryLayout<Float>.stride
        guard bytes <= maxBytes else {
            throw InputError(folder.root, "scoring decodes all \(folder.count) images at \(size)×\(size) into memory (\(bytes >> 30) GiB); give a smaller --test-data folder")
        }
        let augmentation = ImageAugmentation(size: size, mode: .evaluate)
        var images = [Float](repeating: 0, count: folder.count * perImage)
        let workers = max(1, min(threads, folder.count))
        let errors = ErrorSlot()
        images.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let decoder = ImageDecoder()
                for index in stride(from: worker, to: folder.count, by: workers) {
                    do {
                        try augmentation.load(folder, sample: index, decoder: decoder, seed: 0, epoch: 0,
                                              into: base + index * perImage)
                    } catch {
                        errors.record(index, error)
                    }
                }
            }
        }
        if let error = errors.first { throw error }
        return Dataset(images: images, labels: folder.labels, channels: 3, height: size, width: size, source: folder.root)
    }
}

/// The error of the lowest index among those reported from several threads.
private final class ErrorSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var best: (index: Int, error: Error)?

    func record(_ index: Int, _ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if best == nil || index < best!.index { best = (index, error) }
    }

    var first: Error? { lock.lock(); defer { lock.unlock() }; return best?.error }
}
