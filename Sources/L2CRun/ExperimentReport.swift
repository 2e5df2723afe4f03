import Foundation

/// The final JSON line of a command, typed: each command's values are an `Encodable` struct whose fields become the
/// line's keys in snake_case (`imagesPerSec` → `images_per_sec`), and `ExperimentRun.report` adds the keys every
/// command shares (`RunSummary`).
extension Encodable {
    /// The encoding as a JSON object (keys in snake_case), for a JSON line.
    public var jsonObject: [String: Any] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // Every report type is Encodable by construction; a failure here is a programming error.
        return try! JSONSerialization.jsonObject(with: try! encoder.encode(self)) as! [String: Any]
    }
}

/// The keys every command's final JSON line holds.
public struct RunSummary: Encodable {
    public var ranks: Int
    public var globalBatch: Int
    /// The newest training state (`--resume` continues from it), null without one.
    @Nullable public var state: String?
    /// The network the command is for (model.safetensors, or spn.safetensors for `train-spn`), null when none was written.
    @Nullable public var checkpoint: String?
}

/// The keys of several encodings in one JSON object: a command's own values beside the records it shares with other
/// commands (`ScoreRecord`, `RunSummary`, …). Parts that are nil are left out.
public struct Parts: Encodable {
    public let parts: [any Encodable]
    public init(_ parts: (any Encodable)?...) { self.parts = parts.compactMap { $0 } }
    public func encode(to encoder: Encoder) throws {
        for part in parts { try part.encode(to: encoder) }
    }
}

/// An optional field that is written as null when it has no value (rather than left out), so that every line of a
/// command has the same keys.
@propertyWrapper
public struct Nullable<Value: Encodable>: Encodable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
