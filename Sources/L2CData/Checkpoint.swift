import Foundation
import L2CComm
import L2CTensor

/// Checkpoints in the safetensors format, which PyTorch users load with `safetensors.torch.load_file`:
/// an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {…}},
/// then the raw little-endian tensor data.
///
/// Every file carries the SHA-256 of its tensor bytes in `__metadata__.sha256`, checked on load. Writes go to a
/// temporary file in the same folder, are fsynced, renamed over the target and the folder fsynced, so a crash
/// never leaves a half-written checkpoint in place of a good one.
public enum Checkpoint {
    public struct Contents {
        public var tensors: [String: (shape: [Int], values: [Float])]
        public var metadata: [String: String]
        /// Tensors that are not floating point (e.g. PyTorch's I64 `num_batches_tracked`), by name: their dtype.
        public var nonFloat: [String: String] = [:]

        public init(tensors: [String: (shape: [Int], values: [Float])], metadata: [String: String], nonFloat: [String: String] = [:]) {
            (self.tensors, self.metadata, self.nonFloat) = (tensors, metadata, nonFloat)
        }
    }

    /// Bytes per element of each safetensors dtype; F64, F16 and BF16 are read as Float, the others skipped.
    static let dtypeBytes: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "U64": 8, "I32": 4, "U32": 4,
                                            "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public static func save(_ path: String, tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) throws {
        try Snapshot(tensors, metadata: metadata).write(to: path)
    }

    public static func load(_ path: String) throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { throw InputError(path, "no such file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw InputError(path, "cannot be read (\(error.localizedDescription))")
        }
        return try decode(data, path: path)
    }

    /// Parses and verifies a safetensors file's bytes. Every size the header declares is checked against the
    /// file before anything is allocated.
    public static func decode(_ data: Data, path: String) throws -> Contents {
        guard data.count >= 8 else { throw InputError(path, "header length: expected 8 bytes, the file has \(data.count)") }
        let declared = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared > 0, declared <= UInt64(data.count - 8) else {
            throw InputError(path, "header length \(declared) does not fit the file size \(data.count) (truncated or not safetensors)")
        }
        let dataStart = 8 + Int(declared)
        guard let header = (try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart))) as? [String: Any] else {
            throw InputError(path, "header: expected a JSON object")
        }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let strings = raw as? [String: String] else { throw InputError(path, "__metadata__: expected an object of strings") }
            metadata = strings
        }
        let payloadBytes = data.count - dataStart
        var entries: [(name: String, dtype: String, shape: [Int], range: Range<Int>)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw InputError(path, "tensor '\(name)': expected dtype (string), shape and data_offsets (integer arrays)")
            }
            guard let width = dtypeBytes[dtype] else {
                throw InputError(path, "tensor '\(name)': dtype \(dtype), expected one of \(dtypeBytes.keys.sorted().joined(separator: ", "))")
            }
            guard shape.allSatisfy({ $0 >= 0 }), let count = elementCount(shape) else {
                throw InputError(path, "tensor '\(name)': shape \(shape) is negative or too large")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= payloadBytes, offsets[1] - offsets[0] == count * width else {
                throw InputError(path, "tensor '\(name)': data_offsets \(offsets) do not fit shape \(shape) and the \(payloadBytes) data bytes (truncated?)")
            }
            entries.append((name, dtype, shape, offsets[0]..<offsets[1]))
        }
        if let expected = metadata["sha256"] {
            let actual = data.withUnsafeBytes { SHA256Digest.hex(UnsafeRawBufferPointer(rebasing: $0[dataStart...])) }
            guard actual == expected else {
                throw InputError(path, "sha256 of the tensor data is \(actual), the header says \(expected): the file is corrupt")
            }
        }
        var contents = Contents(tensors: [:], metadata: metadata)
        for (name, dtype, shape, range) in entries {
            let bytes = data.subdata(in: (dataStart + range.lowerBound)..<(dataStart + range.upperBound))
            guard let values = floats(bytes, dtype: dtype) else {
                contents.nonFloat[name] = dtype
                continue
            }
            guard values.allSatisfy({ $0.isFinite }) else { throw InputError(path, "tensor '\(name)': holds NaN or Inf") }
            contents.tensors[name] = (shape, values)
        }
        return contents
    }

    /// Little-endian F32, F64, F16 or BF16 elements as Float; nil for the other dtypes.
    static func floats(_ bytes: Data, dtype: String) -> [Float]? {
        bytes.withUnsafeBytes { raw -> [Float]? in
            switch dtype {
            case "F32":
                var values = [Float](repeating: 0, count: raw.count / 4)
                values.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
                return values
            case "F64": return (0..<(raw.count / 8)).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
            case "F16": return (0..<(raw.count / 2)).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
            case "BF16": return (0..<(raw.count / 2)).map { Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
            default: return nil
            }
        }
    }

    /// The element count of a shape, nil when it overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int.max / 8 else { return nil }
            count = product
        }
        return count
    }

    /// Copies a checkpoint's tensors into a model's, checking that every name and shape agrees.
    public static func restore(_ contents: Contents, into tensors: [(name: String, tensor: Tensor)], path: String) throws {
        for (name, t) in tensors {
            guard let saved = contents.tensors[name] else { throw InputError(path, "tensor '\(name)' missing (the model needs it)") }
            guard saved.shape == t.shape else {
                throw InputError(path, "tensor '\(name)': shape \(saved.shape), the model expects \(t.shape)")
            }
            saved.values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }
        }
    }

    /// A copy of named tensors taken at one moment (one memcpy into a contiguous buffer), written later,
    /// possibly on another thread, while training goes on.
    public struct Snapshot: @unchecked Sendable {
        let names: [String]
        let shapes: [[Int]]
        /// The tensors' values back to back (on huge pages, so the first copy does not crawl through
        /// page faults); a writer hands the buffer to the next snapshot.
        public let payload: Tensor
        public let metadata: [String: String]

        /// `buffer`, when it has the right size, is reused.
        public init(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String], reusing buffer: Tensor? = nil) {
            names = tensors.map(\.name)
            shapes = tensors.map(\.tensor.shape)
            let count = tensors.reduce(0) { $0 + $1.tensor.count }
            payload = buffer?.count == count ? buffer! : Tensor(shape: [count])
            var offset = 0
            for (_, t) in tensors {
                (payload.data + offset).update(from: t.data, count: t.count)
                offset += t.count
            }
            self.metadata = metadata
        }

        public var bytes: Int { payload.count * 4 }
        private var payloadBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: payload.data, count: bytes) }

        /// The 8-byte length and the JSON header (with the payload's SHA-256), padded so the data is aligned.
        func header() throws -> Data {
            var meta = metadata
            meta["sha256"] = SHA256Digest.hex(payloadBytes)
            var header: [String: Any] = ["__metadata__": meta]
            var offset = 0
            for (name, shape) in zip(names, shapes) {
                let bytes = shape.reduce(1, *) * 4
                header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
                offset += bytes
            }
            var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
            while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
            var out = Data(capacity: 8 + json.count)
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(json)
            return out
        }

        /// Header then payload, straight from the buffer (no second copy of the tensors).
        public func write(to path: String) throws {
            let header = try header()
            try header.withUnsafeBytes { head in try AtomicFile.write([head, payloadBytes], to: path) }
        }
    }
}
