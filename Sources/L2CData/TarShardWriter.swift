import Foundation
import L2CComm

/// Writes image samples as POSIX tar shards in the WebDataset convention, with the index and class names that
/// `TarShards` reads (see there for the layout). A new shard starts when the next sample would take the current
/// one past `shardBytes`. Each shard is written to a temporary name and renamed when complete.
public enum TarShardWriter {
    /// Packs `samples` into `out` (created; it must not hold shards already) and returns the number of shards.
    @discardableResult
    public static func pack(_ samples: any ImageSamples, into out: String, shardBytes: Int,
                            progress: (Int) -> Void = { _ in }) throws -> Int {
        let fm = FileManager.default
        precondition(shardBytes > 0, "a shard size of \(shardBytes) bytes")
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        if TarShards.recognises(out) { throw InputError(out, "already holds shards (\(TarShards.indexFile)); pack into a new folder") }
        let digits = max(9, String(samples.count).count)
        var index = [TarShards.header]
        var shard = Data(), shardNumber = 0
        func shardName(_ number: Int) -> String { String(format: "shard-%06d.tar", number) }
        func flush() throws {
            guard !shard.isEmpty else { return }
            shard.append(Data(count: 1024))   // the end of the archive: two zero blocks
            let path = (out as NSString).appendingPathComponent(shardName(shardNumber))
            try shard.withUnsafeBytes { try AtomicFile.write([$0], to: path) }
            (shard, shardNumber) = (Data(), shardNumber + 1)
        }
        for sample in 0..<samples.count {
            let bytes = try samples.bytes(sample)
            let key = String(repeating: "0", count: max(0, digits - String(sample).count)) + String(sample)
            let ext = (samples.name(sample) as NSString).pathExtension.lowercased() == "png" ? "png" : "jpg"
            let label = Array("\(samples.labels[sample])".utf8)
            let size = 512 + padded(bytes.count) + 512 + padded(label.count)
            if !shard.isEmpty && shard.count + size + 1024 > shardBytes { try flush() }
            shard.append(header(name: "\(key).\(ext)", size: bytes.count))
            index.append("\(key)\t\(shardName(shardNumber))\t\(shard.count)\t\(bytes.count)\t\(samples.labels[sample])")
            append(bytes, to: &shard)
            shard.append(header(name: "\(key).cls", size: label.count))
            append(label, to: &shard)
            if (sample + 1) % 10_000 == 0 { progress(sample + 1) }
        }
        try flush()
        try (samples.classNames.joined(separator: "\n") + "\n").write(toFile: (out as NSString).appendingPathComponent(TarShards.classesFile),
                                                                     atomically: true, encoding: .utf8)
        // The index last: a folder is a shard folder only once it is complete.
        try (index.joined(separator: "\n") + "\n").write(toFile: (out as NSString).appendingPathComponent(TarShards.indexFile),
                                                        atomically: true, encoding: .utf8)
        return shardNumber
    }

    static func padded(_ count: Int) -> Int { (count + 511) / 512 * 512 }

    static func append(_ bytes: [UInt8], to shard: inout Data) {
        shard.append(contentsOf: bytes)
        shard.append(Data(count: padded(bytes.count) - bytes.count))
    }

    /// A ustar header of a regular file: name, mode 0644, size and mtime 0 in octal, the checksum over the header
    /// with its own field as spaces.
    static func header(name: String, size: Int) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { for (i, byte) in text.utf8.enumerated() { block[offset + i] = byte } }
        put(name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put(String(format: "%011o", size), at: 124)
        put("00000000000", at: 136)
        put("        ", at: 148)
        block[156] = UInt8(ascii: "0")
        put("ustar", at: 257)
        put("00", at: 263)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum), at: 148)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return Data(block)
    }
}
