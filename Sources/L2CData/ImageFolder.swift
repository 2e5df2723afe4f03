import Foundation
import L2CComm

/// A folder of class subfolders of JPEG/PNG images: ImageNet's `train/<wnid>/*.JPEG`, or Office-31's
/// `<domain>/images/<class>/*.jpg` (given `<domain>`, its `images/` folder is used).
///
/// Classes are the subfolder names in sorted order; samples are sorted by class, then file name. Only the
/// paths are read here; images are decoded batch by batch by `ImageBatchLoader`.
public struct ImageFolder: ImageSamples {
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
        let classFolders = try Self.subfolders(root)
        guard !classFolders.isEmpty else { throw InputError(root, "no class subfolders (expected <class>/*.jpg, *.JPEG or *.png)") }
        var paths: [String] = [], labels: [Int] = []
        for (label, folder) in classFolders.enumerated() {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { !$0.hasPrefix(".") && ImageFolder.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            paths += files.map { (folder as NSString).appendingPathComponent($0) }
            labels += [Int](repeating: label, count: files.count)
        }
        guard !paths.isEmpty else { throw InputError(root, "class subfolders hold no .jpg, .jpeg or .png files") }
        self.root = root
        classNames = classFolders.map { ($0 as NSString).lastPathComponent }
        self.paths = paths
        self.labels = labels
    }

    public var count: Int { paths.count }

    public func bytes(_ index: Int) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: paths[index]) else { throw InputError(paths[index], "cannot be read") }
        return [UInt8](data)
    }

    public func name(_ index: Int) -> String { paths[index] }

    /// Whether `path` is (or has an `images/` folder that is) a folder of class subfolders holding image files.
    public static func recognises(_ path: String) -> Bool {
        var root = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return false }
        let images = (path as NSString).appendingPathComponent("images")
        if FileManager.default.fileExists(atPath: images, isDirectory: &isDirectory), isDirectory.boolValue { root = images }
        guard let classes = try? subfolders(root) else { return false }
        return classes.prefix(4).contains { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains {
                ImageFolder.extensions.contains(($0 as NSString).pathExtension.lowercased())
            }
        }
    }

    /// Sorted paths of the visible subfolders.
    static func subfolders(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(path, "no such folder")
        }
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && d.boolValue }
    }
}
