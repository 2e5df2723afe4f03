import Foundation
import L2CData
import L2CRun
import L2CTensor
import XCTest

/// Seeded fuzzing of every reader of user files: each gets 1,000 mutated inputs (truncations, bit flips,
/// huge declared sizes, wrong JSON types, NaN and Inf, negative or overflowing shapes). Every input ends in
/// a clean read or a one-line error that names the file; nothing traps, and a declared size larger than the
/// file is refused before anything is allocated (a trap or an unbounded allocation would end this process).
final class ReaderFuzzTests: XCTestCase {
    static let inputsPerReader = 1_000
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "l2c-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    // MARK: the harness

    /// Byte-level mutations, reproducible from a seed.
    struct Mutator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

        static let hugeWords: [[UInt8]] = [[0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0], [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0x7F]]

        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var bytes = input
            for _ in 0...below(3) {
                guard !bytes.isEmpty else { return bytes }
                switch below(6) {
                case 0: bytes = Array(bytes.prefix(below(bytes.count)))                               // truncation
                case 1: for _ in 0...below(8) { bytes[below(bytes.count)] ^= UInt8(1 << below(8)) }  // bit flips
                case 2:                                                                              // a huge declared size
                    let at = below(max(bytes.count - 3, 1)), word = Self.hugeWords[below(Self.hugeWords.count)]
                    for (i, b) in word.enumerated() where at + i < bytes.count { bytes[at + i] = b }
                case 3: bytes.insert(contentsOf: (0...below(16)).map { _ in UInt8(truncatingIfNeeded: next()) }, at: below(bytes.count))
                case 4: let a = below(bytes.count); bytes.removeSubrange(a..<min(bytes.count, a + 1 + below(64)))
                default: let a = below(bytes.count); bytes.insert(contentsOf: bytes[a..<min(bytes.count, a + 1 + below(256))], at: below(bytes.count))
                }
            }
            return bytes
        }

        /// Replaces one token of a text (a number, a string, a field) with a hostile one.
        mutating func mutateText(_ text: String, hostile: [String]) -> String {
            var tokens = text.split(omittingEmptySubsequences: false, whereSeparator: { ",: \n\t[]{}".contains($0) }).map(String.init)
            let separators = text.filter { ",: \n\t[]{}".contains($0) }.map(String.init)
            guard !tokens.isEmpty else { return text }
            for _ in 0...below(2) { tokens[below(tokens.count)] = hostile[below(hostile.count)] }
            var out = ""
            for (i, token) in tokens.enumerated() { out += token + (i < separators.count ? separators[i] : "") }
            return out
        }
    }

    /// Runs `read` on `count` mutants of `valid` written to `name`: each must read cleanly or fail with one
    /// line naming the file.
    private func fuzz(_ name: String, valid: [UInt8], seed: UInt64, count: Int = inputsPerReader,
                      mutate: ((inout Mutator, [UInt8]) -> [UInt8])? = nil, _ read: (String) throws -> Void) throws {
        var mutator = Mutator(state: seed)
        let path = folder + "/" + name
        var (clean, refused) = (0, 0)
        for index in 0..<count {
            let bytes = mutate.map { $0(&mutator, valid) } ?? mutator.mutate(valid)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                try read(path)
                clean += 1
            } catch {
                refused += 1
                let text = "\(error)"
                XCTAssertTrue(text.contains(path), "input \(index) of \(name): the error does not name the file: \(text)")
                XCTAssertFalse(text.contains("\n"), "input \(index) of \(name): the error is not one line: \(text)")
            }
        }
        XCTAssertEqual(clean + refused, count)
        XCTAssertGreaterThan(refused, count / 10, "\(name): the mutations should break most inputs")
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    // MARK: the readers

    private func validCheckpoint() throws -> [UInt8] {
        let path = folder + "/valid.safetensors"
        try Checkpoint.save(path, tensors: [("fc.weight", Tensor(shape: [3, 4], values: (0..<12).map(Float.init))),
                                            ("fc.bias", Tensor(shape: [3], values: [1, 2, 3]))], metadata: ["format": "l2c-1", "model": "mlp"])
        return try bytes(path)
    }

    /// Header mutations (wrong JSON types, negative or overflowing shapes and offsets) or tensor values set to
    /// NaN/Inf with a matching digest, besides the byte-level ones.
    private func mutateSafetensors(_ m: inout Mutator, _ valid: [UInt8]) -> [UInt8] {
        let headerLength = Int(valid[0]) | Int(valid[1]) << 8 | Int(valid[2]) << 16 | Int(valid[3]) << 24
        let header = String(decoding: valid[8..<(8 + headerLength)], as: UTF8.self)
        let payload = Array(valid[(8 + headerLength)...])
        switch m.below(3) {
        case 0:
            let json = Array(m.mutateText(header, hostile: ["-1", "-8", "9223372036854775807", "4611686018427387904", "1e308", "1.5", "\"F32\"",
                                                            "\"F64\"", "null", "true", "\"x\"", "[]", "{}", "\"sha256\"", "0"]).utf8)
            return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + payload
        case 1:
            var floats = payload.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            floats[m.below(floats.count)] = [Float.nan, .infinity, -.infinity][m.below(3)]
            let newPayload = floats.withUnsafeBytes { Array($0) }
            let digest = newPayload.withUnsafeBytes { SHA256Digest.hex($0) }
            let json = Array(header.replacingOccurrences(of: #""sha256":"[0-9a-f]{64}""#, with: "\"sha256\":\"\(digest)\"", options: .regularExpression).utf8)
            return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + newPayload
        default:
            return m.mutate(valid)
        }
    }

    func testSafetensorsCheckpoints() throws {
        try fuzz("model.safetensors", valid: try validCheckpoint(), seed: 1, mutate: mutateSafetensors) { _ = try Checkpoint.load($0) }
    }

    func testTrainingStates() throws {
        let path = folder + "/state.safetensors"
        let metadata = ["format": TrainingState.format, "command": "train", "phase": "train", "step": "10", "optimizer.step": "10",
                        "options": "{\"--seed\":\"1\"}", "phase_state": "{}", "completed": "{\"spn\":{}}", "ranks": "2"]
        try Checkpoint.save(path, tensors: [("fc.weight", Tensor(shape: [2, 2], values: [1, 2, 3, 4])),
                                            ("optimizer.fc.weight.exp_avg", Tensor(shape: [2, 2], values: [0, 0, 0, 1]))], metadata: metadata)
        try fuzz("state.safetensors", valid: try bytes(path), seed: 2, mutate: mutateSafetensors) { _ = try TrainingState.load($0) }
    }

    private func idxFiles(count: Int = 6) -> (images: [UInt8], labels: [UInt8]) {
        (IDXReader.encode(dimensions: [count, 4, 4], bytes: (0..<(count * 16)).map { UInt8($0 % 256) }),
         IDXReader.encode(dimensions: [count], bytes: (0..<count).map { UInt8($0 % 3) }))
    }

    func testIDXRaw() throws {
        let (images, labels) = idxFiles()
        let labelsPath = folder + "/labels-idx1-ubyte"
        try Data(labels).write(to: URL(fileURLWithPath: labelsPath))
        try fuzz("images-idx3-ubyte", valid: images, seed: 3) { _ = try IDXReader.dataset(images: $0, labels: labelsPath) }
    }

    func testIDXGzip() throws {
        let (images, _) = idxFiles()
        let raw = folder + "/plain-idx3-ubyte"
        try Data(images).write(to: URL(fileURLWithPath: raw))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", "-f", raw]
        try gzip.run()
        gzip.waitUntilExit()
        try fuzz("images-idx3-ubyte.gz", valid: try bytes(raw + ".gz"), seed: 4) { _ = try IDXReader.read($0, expectedDimensions: 3) }
    }

    func testCSV() throws {
        let rows = (0..<5).map { r in ((0..<16).map { "\(($0 * 13 + r * 7) % 256)" } + ["\(r % 3)"]).joined(separator: ",") }
        let valid = Array((rows.joined(separator: "\n") + "\n").utf8)
        try fuzz("digits.csv", valid: valid, seed: 5, mutate: { m, valid in
            m.below(2) == 0 ? m.mutate(valid)
                : Array(m.mutateText(String(decoding: valid, as: UTF8.self), hostile: ["nan", "inf", "-inf", "-1", "1e40", "", ",", "x", "99999999999999999999"]).utf8)
        }) { _ = try CSVReader.dataset($0) }
    }

    func testCoarseLabelMaps() throws {
        let valid = Array("# fine coarse\n0 0\n1 0\n2 1\n3 1\n".utf8)
        try fuzz("coarse.txt", valid: valid, seed: 6, mutate: { m, valid in
            m.below(2) == 0 ? m.mutate(valid)
                : Array(m.mutateText(String(decoding: valid, as: UTF8.self), hostile: ["-1", "99999999999999999999", "2", "x", "", "#", "0 0 0"]).utf8)
        }) { _ = try CoarseLabels.read($0, classes: [0, 1, 2, 3], parents: 2) }
    }

    private func photo(width: Int, height: Int) -> RGBImage {
        RGBImage(pixels: (0..<(width * height * 3)).map { UInt8(($0 * 7 + $0 / 97) % 256) }, width: width, height: height)
    }

    /// The shards' index: a mutated line is refused naming the index and the line; a sample whose offset or size
    /// the shard cannot hold is refused naming the shard, before its bytes are allocated.
    func testShardIndex() throws {
        let images = folder + "/images/a"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        for i in 0..<6 { try JPEGWriter.write("\(images)/\(i).jpg", RGBImage(pixels: [UInt8](repeating: UInt8(40 * i), count: 8 * 8 * 3), width: 8, height: 8)) }
        let shards = folder + "/shards"
        try TarShardWriter.pack(try ImageFolder(folder + "/images"), into: shards, shardBytes: 1 << 20)
        let valid = try bytes(shards + "/" + TarShards.indexFile)
        try fuzz("shards/" + TarShards.indexFile, valid: valid, seed: 11, mutate: { m, valid in
            m.below(2) == 0 ? m.mutate(valid) : Array(m.mutateText(String(decoding: valid, as: UTF8.self),
                                                                  hostile: ["-1", "0", "9223372036854775807", "2147483647", "x", "", "../x.tar", "1e3"]).utf8)
        }) { _ in
            let set = try TarShards(shards)
            for index in 0..<set.count {
                do { _ = try set.bytes(index) } catch {
                    XCTAssertTrue("\(error)".hasPrefix(shards + "/"), "\(error)")
                    XCTAssertFalse("\(error)".contains("\n"), "\(error)")
                }
            }
        }
    }

    func testPNG() throws {
        let path = folder + "/valid.png"
        try PNGWriter.writeGrey(path, pixels: (0..<(24 * 20)).map { UInt8($0 % 251) }, width: 24, height: 20)
        let decoder = ImageDecoder()
        try fuzz("glyph.png", valid: try bytes(path), seed: 7) { path in
            _ = try PNGReader.grey(path)
            _ = try decoder.decode(try bytes(path), path: path)
        }
    }

    func testJPEG() throws {
        let path = folder + "/valid.jpg"
        try JPEGWriter.write(path, photo(width: 48, height: 40))
        let decoder = ImageDecoder()
        try fuzz("photo.jpg", valid: try bytes(path), seed: 8) { path in
            let data = try bytes(path)
            let size = try decoder.size(data, path: path)
            _ = try decoder.decode(data, path: path, size: size, minimumScale: 0.5)
        }
    }
}
