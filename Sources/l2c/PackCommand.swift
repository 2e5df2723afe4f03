import ArgumentParser
import Foundation
import L2CComm
import L2CData
import L2CRun

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack an image folder into tar shards (WebDataset convention) that every command reads where it reads an image folder.",
        discussion: """
            Each sample becomes two members sharing a key, KEY.jpg (or .png: the original bytes) and KEY.cls (its class \
            index), so PyTorch users' WebDataset readers read the shards too. OUT/index.tsv gives every sample's shard and \
            offset, OUT/classes.txt the class names; a rank reads a sample with one positioned read instead of opening \
            one small file per image, which parallel file systems handle badly. The samples keep the folder's order \
            (classes sorted, then file names), so training on the shards reads the same batches as on the folder.
            """)

    @Argument(help: ArgumentHelp("The image folder (<class>/*.jpg|png, ImageNet or Office-31 layout).", valueName: "source"))
    var source: String

    @Option(help: ArgumentHelp("Folder for the shards, index.tsv and classes.txt (created; it must not hold shards yet).", valueName: "folder"))
    var out: String

    @Option(name: .customLong("shard-mb"), help: "Size of each shard in MiB (the last is smaller).")
    var shardMegabytes: Int = 256

    func validate() throws {
        guard shardMegabytes >= 1 else { throw ValidationError("--shard-mb: expected 1 or more MiB, got \(shardMegabytes)") }
    }

    func run() throws {
        try LocalRun.run {
            let start = Date()
            let data = try DataSource.open(source)
            guard data.format == .imageFolder else {
                throw InputError(source, "expected an image folder (<class>/*.jpg|png), found \(data.format.rawValue) data")
            }
            let samples = try data.images()
            let shards = try TarShardWriter.pack(samples, into: out, shardBytes: shardMegabytes << 20) { done in
                FileHandle.standardError.write(Data("l2c: pack: \(done) of \(samples.count) samples\n".utf8))
            }
            print(JSONLine.encode(["samples": samples.count, "classes": samples.classNames.count, "shards": shards, "out": out,
                                   "seconds": JSONLine.round(Date().timeIntervalSince(start), digits: 4)]))
        }
    }
}
