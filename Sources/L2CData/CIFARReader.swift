import Foundation
import L2CComm

/// The CIFAR-100 binary format (`train.bin`, `test.bin`): records of 1 byte coarse label, 1 byte fine label and
/// 3,072 bytes of 32×32 pixels, the red plane, then green, then blue.
public enum CIFAR100Reader {
    public static let recordSize = 2 + 3 * 32 * 32

    /// Fine labels in the dataset, and the coarse label of every sample.
    public static func read(_ path: String) throws -> (dataset: Dataset, coarse: [Int]) {
        let bytes = try FileBytes.read(path)
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            throw InputError(path, "CIFAR-100 binary: expected a whole number of \(recordSize)-byte records, file has \(bytes.count) bytes")
        }
        let count = bytes.count / recordSize
        var images = [Float](repeating: 0, count: count * 3072)
        var fine = [Int](repeating: 0, count: count), coarse = [Int](repeating: 0, count: count)
        for r in 0..<count {
            let o = r * recordSize
            coarse[r] = Int(bytes[o])
            fine[r] = Int(bytes[o + 1])
            guard coarse[r] < 20, fine[r] < 100 else {
                throw InputError(path, "record \(r + 1): labels coarse \(coarse[r]) / fine \(fine[r]), expected < 20 / < 100")
            }
            for i in 0..<3072 { images[r * 3072 + i] = Float(bytes[o + 2 + i]) * (1 / 255) }
        }
        return (Dataset(images: images, labels: fine, channels: 3, height: 32, width: 32, source: path), coarse)
    }

    /// `folder/train.bin` or `folder/test.bin`.
    public static func load(_ folder: String, split: Split) throws -> (dataset: Dataset, coarse: [Int]) {
        try read((folder as NSString).appendingPathComponent(split == .train ? "train.bin" : "test.bin"))
    }

    /// True when `folder` holds CIFAR-100 binary files.
    public static func recognises(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("train.bin"))
    }
}
