import Foundation
import L2CTensor

/// Checkpoints in the safetensors format, which PyTorch users load with `safetensors.torch.load_file`:
/// an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {…}},
/// then the raw little-endian tensor data.
///
/// Writes go to a temporary file in the same folder, are fsynced, then renamed over the target, so a crash
/// never leaves a half-written checkpoint in place of a good one.
public enum Checkpoint {
    public struct Contents {
        public var tensors: [String: (shape: [Int], values: [Float])]
        public var metadata: [String: String]
    }

    public static func save(_ path: String, tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to a multiple of 8 bytes, so the data is aligned.
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, t) in tensors { file.append(UnsafeBufferPointer(start: t.data, count: t.count)) }
        try AtomicFile.write(file, to: path)
    }

    public static func load(_ path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path, "no such file or unreadable")
        }
        guard data.count >= 8 else { throw CheckpointError(path, "header length: expected 8 bytes, file has \(data.count)") }
        let headerLength = Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        guard headerLength > 0, 8 + headerLength <= data.count else {
            throw CheckpointError(path, "header length \(headerLength) exceeds the file size \(data.count)")
        }
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] else {
            throw CheckpointError(path, "header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        var contents = Contents(tensors: [:], metadata: header["__metadata__"] as? [String: String] ?? [:])
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError(path, "tensor '\(name)': expected dtype, shape and data_offsets")
            }
            guard dtype == "F32" else { throw CheckpointError(path, "tensor '\(name)': dtype \(dtype), expected F32") }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == count * 4, dataStart + offsets[1] <= data.count else {
                throw CheckpointError(path, "tensor '\(name)': data_offsets \(offsets) do not fit shape \(shape) and the file size")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (dataStart + offsets[0])..<(dataStart + offsets[1]))
            }
            contents.tensors[name] = (shape, values)
        }
        return contents
    }

    /// Copies a checkpoint's tensors into a model's, checking that every name and shape agrees.
    public static func restore(_ contents: Contents, into tensors: [(name: String, tensor: Tensor)], path: String) throws {
        for (name, t) in tensors {
            guard let saved = contents.tensors[name] else { throw CheckpointError(path, "tensor '\(name)' missing (the model needs it)") }
            guard saved.shape == t.shape else {
                throw CheckpointError(path, "tensor '\(name)': shape \(saved.shape), the model expects \(t.shape)")
            }
            saved.values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }
        }
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Write-to-temporary, fsync, rename: the target is either the old file or the complete new one.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/.\(url.lastPathComponent).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError(temporary, "cannot create: \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { ok = false; break }
                written += n
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok else {
            unlink(temporary)
            throw CheckpointError(path, "writing failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CheckpointError(path, "cannot rename the finished file into place: \(String(cString: strerror(errno)))")
        }
        // Make the rename itself durable.
        let dirfd = open(folder, O_RDONLY)
        if dirfd >= 0 { fsync(dirfd); close(dirfd) }
    }
}
