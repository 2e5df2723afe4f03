import Foundation
import L2CComm

/// Image folders in the Omniglot layout, `root/<alphabet>/<character>/*.png`: a class is a leaf folder.
/// Classes are numbered in the sorted order of the alphabets, then of their character folders.
public struct AlphabetCollection: Sendable {
    /// Every sample of the chosen alphabets; labels are class indices.
    public let dataset: Dataset
    public let alphabets: [String]
    /// The alphabet index of each class.
    public let alphabetOfClass: [Int]
    /// `alphabet/character` of each class.
    public let classNames: [String]

    /// The samples of one alphabet, their labels renumbered 0..<characters.
    public func alphabet(_ index: Int) -> Dataset {
        let classes = alphabetOfClass.indices.filter { alphabetOfClass[$0] == index }
        let renumber = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let subset = dataset.filter(labels: Set(classes))
        return Dataset(images: subset.images, labels: subset.labels.map { renumber[$0]! }, channels: subset.channels,
                       height: subset.height, width: subset.width, source: "\(dataset.source)/\(alphabets[index])")
    }
}

extension AlphabetCollection {
    // MARK: reading a tree

    /// True when `path` is a folder whose subfolders hold class folders of images.
    public static func recognises(_ path: String) -> Bool {
        guard let first = (try? ImageFolder.subfolders(path))?.first, let inner = try? ImageFolder.subfolders(first) else { return false }
        return !inner.isEmpty
    }

    /// The alphabet folder names under `root`, sorted.
    public static func names(in root: String) throws -> [String] {
        try ImageFolder.subfolders(root).map { ($0 as NSString).lastPathComponent }
    }

    public static func load(root: String, alphabets names: [String]) throws -> AlphabetCollection {
        let available = try Self.names(in: root)
        var images: [Float] = []
        var labels: [Int] = []
        var alphabetOfClass: [Int] = []
        var classNames: [String] = []
        var shape: (width: Int, height: Int, file: String)?
        for (alphabetIndex, name) in names.enumerated() {
            let folder = (root as NSString).appendingPathComponent(name)
            guard available.contains(name) else {
                throw InputError(folder, "alphabet '\(name)' does not exist (\(root) has \(available.count) alphabets: \(available.prefix(8).joined(separator: ", "))\(available.count > 8 ? ", …" : ""))")
            }
            let characters = try ImageFolder.subfolders(folder)
            guard !characters.isEmpty else { throw InputError(folder, "alphabet folder has no character folders") }
            for characterFolder in characters {
                let files = try FileManager.default.contentsOfDirectory(atPath: characterFolder)
                    .filter { $0.lowercased().hasSuffix(".png") }.sorted()
                guard !files.isEmpty else { throw InputError(characterFolder, "class folder holds no .png images") }
                let label = classNames.count
                classNames.append("\(name)/\((characterFolder as NSString).lastPathComponent)")
                alphabetOfClass.append(alphabetIndex)
                for file in files {
                    let path = (characterFolder as NSString).appendingPathComponent(file)
                    let image = try PNGReader.grey(path)
                    if let shape, (shape.width, shape.height) != (image.width, image.height) {
                        throw InputError(path, "image is \(image.width)×\(image.height), expected \(shape.width)×\(shape.height) like \(shape.file)")
                    }
                    shape = shape ?? (image.width, image.height, path)
                    images += image.pixels.map { Float($0) * (1 / 255) }
                    labels.append(label)
                }
            }
        }
        guard let shape else { throw InputError(root, "no alphabets chosen") }
        let dataset = Dataset(images: images, labels: labels, channels: 1, height: shape.height, width: shape.width, source: root)
        return AlphabetCollection(dataset: dataset, alphabets: names, alphabetOfClass: alphabetOfClass, classNames: classNames)
    }
}
