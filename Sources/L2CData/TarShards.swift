import Foundation
import L2CComm

/// Image samples packed into POSIX tar shards in the WebDataset convention: each sample is two members sharing a
/// key, `KEY.jpg` (or `.png`, the original encoded bytes) and `KEY.cls` (its class index as decimal text), so
/// that WebDataset's readers read them too. Beside the shards, `classes.txt` names the classes (one per line,
/// the class index is the line) and `index.tsv` gives every sample's shard, the offset and size of its image
/// member's bytes, and its label, in sample order:
///
///     key	shard	offset	bytes	label
///     000000000	shard-000000.tar	512	7790	0
///
/// Reading a sample is one positioned read in one shard; the folder is never walked.
public struct TarShards: ImageSamples {
    public static let indexFile = "index.tsv"
    public static let classesFile = "classes.txt"
    static let header = "key\tshard\toffset\tbytes\tlabel"

    public let root: String
    public let classNames: [String]
    public let labels: [Int]
    /// The shard file names, and each sample's shard (position in `shards`), image offset and size.
    public let shards: [String]
    let shardOfSample: [Int32]
    let offsets: [Int64]
    let sizes: [Int32]
    let keys: [String]

    /// Whether `path` is a folder of shards (it holds the index and the class names).
    public static func recognises(_ path: String) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: (path as NSString).appendingPathComponent(indexFile))
            && fm.fileExists(atPath: (path as NSString).appendingPathComponent(classesFile))
    }

    /// Reads the index and the class names of the shard folder `root`; a line that does not parse is named.
    public init(_ root: String) throws {
        self.root = root
        let indexPath = (root as NSString).appendingPathComponent(Self.indexFile)
        let classesPath = (root as NSString).appendingPathComponent(Self.classesFile)
        guard let classes = try? String(contentsOfFile: classesPath, encoding: .utf8) else { throw InputError(classesPath, "cannot be read") }
        classNames = classes.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        guard !classNames.isEmpty else { throw InputError(classesPath, "names no class (expected one class name per line)") }
        guard let index = try? String(contentsOfFile: indexPath, encoding: .utf8) else { throw InputError(indexPath, "cannot be read") }
        var lines = index.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first.map(String.init) == Self.header else {
            throw InputError(indexPath, "line 1: expected the header '\(Self.header.replacingOccurrences(of: "\t", with: "<tab>"))'")
        }
        lines.removeFirst()
        var shards: [String] = [], shardNumber: [Substring: Int32] = [:]
        var (shardOfSample, offsets, sizes, labels, keys) = ([Int32](), [Int64](), [Int32](), [Int](), [String]())
        for (number, line) in lines.enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 5, let offset = Int64(fields[2]), offset >= 0, let size = Int32(fields[3]), size > 0,
                  let label = Int(fields[4]), label >= 0, label < classNames.count, !fields[1].contains("/"), fields[1].hasSuffix(".tar") else {
                throw InputError(indexPath, "line \(number + 2): expected key, shard file (*.tar beside the index), offset, bytes and a label below \(classNames.count), tab-separated")
            }
            if shardNumber[fields[1]] == nil { shardNumber[fields[1]] = Int32(shards.count); shards.append(String(fields[1])) }
            shardOfSample.append(shardNumber[fields[1]]!)
            offsets.append(offset)
            sizes.append(size)
            labels.append(label)
            keys.append(String(fields[0]))
        }
        guard !labels.isEmpty else { throw InputError(indexPath, "lists no sample") }
        (self.shards, self.shardOfSample, self.offsets, self.sizes, self.labels, self.keys) = (shards, shardOfSample, offsets, sizes, labels, keys)
    }

    public var count: Int { labels.count }

    public func bytes(_ index: Int) throws -> [UInt8] {
        let path = (root as NSString).appendingPathComponent(shards[Int(shardOfSample[index])])
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw InputError(path, "cannot be opened") }
        defer { close(fd) }
        // The index's offset and size are checked against the shard before anything is allocated.
        var info = stat()
        guard fstat(fd, &info) == 0, offsets[index] <= Int64(info.st_size) - Int64(sizes[index]) else {
            throw InputError(path, "member \(keys[index]): \(sizes[index]) bytes at offset \(offsets[index]) expected, the shard has \(info.st_size)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(sizes[index]))
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offsets[index])) }
        guard read == bytes.count else {
            throw InputError(path, "member \(keys[index]): \(bytes.count) bytes at offset \(offsets[index]) expected, the shard ends after \(max(read, 0))")
        }
        return bytes
    }

    public func name(_ index: Int) -> String {
        (root as NSString).appendingPathComponent(shards[Int(shardOfSample[index])]) + ":\(keys[index])"
    }
}
