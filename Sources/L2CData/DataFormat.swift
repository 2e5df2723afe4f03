import Foundation
import L2CComm

/// The formats L2C reads, each recognised from what its path holds. This is the one place that tells formats
/// apart: every command opens its data through `DataSource.open`, which asks `DataFormat.detect`.
public enum DataFormat: String, CaseIterable, Sendable {
    /// A CSV file: one row per sample, the pixels of a square image (0–255) and a label column.
    case csv
    /// A folder of the four MNIST IDX files (`train-images-idx3-ubyte`, …, raw or `.gz`).
    case idx
    /// A folder of CIFAR-100's binary files (`train.bin`, `test.bin`), with fine and coarse labels.
    case cifar100
    /// Class subfolders of JPEG/PNG images: ImageNet's `<class>/*.JPEG`, or Office-31's `<domain>/images/<class>/`.
    case imageFolder = "image-folder"
    /// Tar shards of JPEG/PNG images in the WebDataset convention, with L2C's index (`l2c pack` writes them).
    case shards
    /// The Omniglot layout `<alphabet>/<character>/*.png`: a class is a leaf folder.
    case alphabets

    /// The format of `path`. A file is CSV; a folder is, in this order, CIFAR-100, an image folder, an alphabet
    /// tree, or else a folder of IDX files (whose missing files are named when they are read).
    public static func detect(_ path: String) throws -> DataFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(path, "no such file or folder (expected \(described))")
        }
        guard isDirectory.boolValue else { return .csv }
        if CIFAR100Reader.recognises(path) { return .cifar100 }
        if TarShards.recognises(path) { return .shards }
        if ImageFolder.recognises(path) { return .imageFolder }
        if AlphabetCollection.recognises(path) { return .alphabets }
        return .idx
    }

    /// What every format looks like, for messages.
    public static let described = "a folder of MNIST IDX files, a CSV file, a CIFAR-100 folder (train.bin, test.bin), "
        + "an image folder (<class>/*.jpg|png), a folder of tar shards from l2c pack, or an alphabet tree (<alphabet>/<character>/*.png)"

    /// Whether the images are decoded batch by batch (image folders and shards) rather than held in memory.
    public var streams: Bool { self == .imageFolder || self == .shards }
}
