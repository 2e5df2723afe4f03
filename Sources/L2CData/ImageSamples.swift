import Foundation

/// Encoded images (JPEG or PNG) with class labels, read one sample at a time: an image folder's files, or the
/// members of tar shards. The image pipeline decodes them batch by batch; nothing holds the decoded set.
public protocol ImageSamples: Sendable {
    /// Where they come from, for messages.
    var root: String { get }
    var count: Int { get }
    var labels: [Int] { get }
    var classNames: [String] { get }
    /// The encoded bytes of sample `index`.
    func bytes(_ index: Int) throws -> [UInt8]
    /// Sample `index` as a user can find it: a file path, or a shard and its member.
    func name(_ index: Int) -> String
}
