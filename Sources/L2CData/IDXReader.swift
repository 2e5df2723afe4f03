import Foundation
import L2CComm

/// The MNIST IDX format (raw or gzip): big-endian magic 0x0000 08 D, then D big-endian u32 sizes,
/// then unsigned bytes. Images (D = 3) become floats in [0, 1]; labels (D = 1) integers.
public enum IDXReader {
    public struct Array {
        public let dimensions: [Int]
        public let bytes: ArraySlice<UInt8>
    }

    public static func read(_ path: String, expectedDimensions: Int) throws -> Array {
        let bytes = try FileBytes.read(path)
        guard bytes.count >= 4 else { throw InputError(path, "IDX header: expected at least 4 bytes of magic number, file has \(bytes.count)") }
        guard bytes[0] == 0, bytes[1] == 0 else { throw InputError(path, "IDX magic number: expected two zero bytes, found \(bytes[0]) \(bytes[1])") }
        guard bytes[2] == 0x08 else { throw InputError(path, "IDX data type: expected 0x08 (unsigned byte), found 0x\(String(bytes[2], radix: 16))") }
        let rank = Int(bytes[3])
        guard rank == expectedDimensions else { throw InputError(path, "IDX dimensions: expected \(expectedDimensions), header says \(rank)") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else { throw InputError(path, "IDX header: truncated in the dimension sizes") }
        var dims: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            dims.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let available = bytes.count - headerSize
        var expected = 1
        for d in dims {
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else { throw InputError(path, "IDX data: header \(dims) declares more bytes than any file holds (corrupt header)") }
            expected = product
        }
        guard available == expected else {
            throw InputError(path, "IDX data: header \(dims) needs \(expected) bytes, file has \(available)" + (available < expected ? " (truncated)" : " (trailing bytes)"))
        }
        return Array(dimensions: dims, bytes: bytes[headerSize...])
    }

    /// An images file and its labels file as one dataset.
    public static func dataset(images imagesPath: String, labels labelsPath: String) throws -> Dataset {
        let images = try read(imagesPath, expectedDimensions: 3)
        let labels = try read(labelsPath, expectedDimensions: 1)
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw InputError(labelsPath, "label count: expected \(images.dimensions[0]) (as many as images in \(imagesPath)), found \(labels.dimensions[0])")
        }
        let pixels = images.bytes.map { Float($0) * (1 / 255) }
        return Dataset(images: pixels, labels: labels.bytes.map { Int($0) }, channels: 1,
                       height: images.dimensions[1], width: images.dimensions[2], source: imagesPath)
    }

    /// Writes an IDX file of unsigned bytes (used by tests and data preparation).
    public static func encode(dimensions: [Int], bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return out + bytes
    }

    // MARK: the MNIST folder layout

    /// IDX file stems by split: (images, labels).
    static let stems: [Split: (String, String)] = [
        .train: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        .test: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    ]

    /// `folder/stem`, or `folder/stem.gz` when only that exists.
    static func locate(_ folder: String, _ stem: String) throws -> String {
        let plain = (folder as NSString).appendingPathComponent(stem)
        if FileManager.default.fileExists(atPath: plain) { return plain }
        if FileManager.default.fileExists(atPath: plain + ".gz") { return plain + ".gz" }
        throw InputError(plain, "no such file (nor \(stem).gz): the folder must hold the standard MNIST IDX files")
    }
}
