import Foundation

/// Which part of a dataset to load.
public enum Split: String, Sendable {
    case train
    case test
}

/// Finds and loads a dataset from a path: a folder of the four standard MNIST IDX files (raw or .gz),
/// a CSV file (one row per sample; the same file serves both splits), or an image folder
/// (`<class>/*.jpg|png`, decoded at `imageSize` with the evaluation transform; the folder is the split).
public enum DatasetLoader {
    /// IDX file stems by split: (images, labels).
    static let idxNames: [Split: (String, String)] = [
        .train: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        .test: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ]

    public static func load(_ path: String, split: Split, labelColumn: Int? = nil, imageSize: Int = 224) throws -> Dataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path, "no such file or folder (expected a folder of MNIST IDX files or a CSV file)")
        }
        if !isDirectory.boolValue { return try CSVReader.dataset(path, labelColumn: labelColumn) }
        if ImageFolderDataset.holdsImages(path) {
            return try ImageFolderDataset.load(try ImageFolder(path), size: imageSize, threads: ProcessInfo.processInfo.activeProcessorCount)
        }
        let (imagesStem, labelsStem) = idxNames[split]!
        return try IDXReader.dataset(images: try locate(path, imagesStem), labels: try locate(path, labelsStem))
    }

    /// `folder/stem`, or `folder/stem.gz` when only that exists.
    static func locate(_ folder: String, _ stem: String) throws -> String {
        let plain = (folder as NSString).appendingPathComponent(stem)
        if FileManager.default.fileExists(atPath: plain) { return plain }
        if FileManager.default.fileExists(atPath: plain + ".gz") { return plain + ".gz" }
        throw DataError(plain, "no such file (nor \(stem).gz): the folder must hold the standard MNIST IDX files")
    }
}
