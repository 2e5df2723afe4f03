import Foundation

/// A folder of class subfolders of JPEG/PNG images: ImageNet's `train/<wnid>/*.JPEG`, or Office-31's
/// `<domain>/images/<class>/*.jpg` (given `<domain>`, its `images/` folder is used).
///
/// Classes are the subfolder names in sorted order; samples are sorted by class, then file name. Only the
/// paths are read here; images are decoded batch by batch by `ImageBatchLoader`.
public struct ImageFolder: Sendable {
    public let root: String
    public let classNames: [String]
    public let paths: [String]
    public let labels: [Int]

    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    public init(_ path: String) throws {
        var root = path
        let images = (path as NSString).appendingPathComponent("images")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: images, isDirectory: &isDirectory), isDirectory.boolValue { root = images }
        let classFolders = try ImageFolderReader.subfolders(root)
        guard !classFolders.isEmpty else { throw DataError(root, "no class subfolders (expected <class>/*.jpg, *.JPEG or *.png)") }
        var paths: [String] = [], labels: [Int] = []
        for (label, folder) in classFolders.enumerated() {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { !$0.hasPrefix(".") && ImageFolder.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            paths += files.map { (folder as NSString).appendingPathComponent($0) }
            labels += [Int](repeating: label, count: files.count)
        }
        guard !paths.isEmpty else { throw DataError(root, "class subfolders hold no .jpg, .jpeg or .png files") }
        self.root = root
        classNames = classFolders.map { ($0 as NSString).lastPathComponent }
        self.paths = paths
        self.labels = labels
    }

    public var count: Int { paths.count }
}
