import Foundation
import L2CComm

/// Which part of a dataset to load.
public enum Split: String, Sendable {
    case train
    case test
}

/// A dataset on disk, opened once: its path, its format, and the ways to read it. Every command reads its data
/// through this type.
public struct DataSource: Sendable {
    public let path: String
    public let format: DataFormat
    /// The label column of a CSV file (nil: the last).
    public let labelColumn: Int?

    /// Opens `path`, recognising its format (`DataFormat.detect`).
    public static func open(_ path: String, labelColumn: Int? = nil) throws -> DataSource {
        DataSource(path: path, format: try DataFormat.detect(path), labelColumn: labelColumn)
    }

    // MARK: in memory

    /// The samples of `split`, in memory as fp32. Image folders are decoded at `imageSize` with the evaluation
    /// transform (the folder is the split); a CSV file and an alphabet tree serve both splits.
    public func load(_ split: Split, imageSize: Int = 224) throws -> Dataset {
        try loadWithCoarseLabels(split, imageSize: imageSize).dataset
    }

    /// `load`, plus the coarse label of every sample where the format carries one (CIFAR-100).
    public func loadWithCoarseLabels(_ split: Split, imageSize: Int = 224) throws -> (dataset: Dataset, coarse: [Int]?) {
        switch format {
        case .csv:
            return (try CSVReader.dataset(path, labelColumn: labelColumn), nil)
        case .idx:
            let (imagesStem, labelsStem) = IDXReader.stems[split]!
            return (try IDXReader.dataset(images: try IDXReader.locate(path, imagesStem), labels: try IDXReader.locate(path, labelsStem)), nil)
        case .cifar100:
            let (dataset, coarse) = try CIFAR100Reader.load(path, split: split)
            return (dataset, coarse)
        case .imageFolder, .shards:
            return (try ImageFolderDataset.load(try images(), size: imageSize, threads: ProcessInfo.processInfo.activeProcessorCount), nil)
        case .alphabets:
            return (try alphabets(try alphabetNames()).dataset, nil)
        }
    }

    // MARK: streamed

    /// The encoded images of an image folder or of shards, for the prefetching loader.
    public func images() throws -> any ImageSamples {
        switch format {
        case .imageFolder: return try ImageFolder(path)
        case .shards: return try TarShards(path)
        default: throw InputError(path, "expected an image folder (<class>/*.jpg|png) or shards from l2c pack, found \(format.rawValue) data")
        }
    }

    // MARK: alphabet trees

    /// The alphabet folder names, sorted.
    public func alphabetNames() throws -> [String] {
        try requireAlphabets()
        return try AlphabetCollection.names(in: path)
    }

    /// The images of the alphabets `names`, their characters numbered in that order.
    public func alphabets(_ names: [String]) throws -> AlphabetCollection {
        try requireAlphabets()
        return try AlphabetCollection.load(root: path, alphabets: names)
    }

    private func requireAlphabets() throws {
        guard format == .alphabets else {
            throw InputError(path, "expected an alphabet tree (<alphabet>/<character>/*.png), found \(format.rawValue) data")
        }
    }
}
