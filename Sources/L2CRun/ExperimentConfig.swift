import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CTensor

/// The settings of one experiment (`train`, `transfer`, `adapt`, …), identical on every rank. Everything the run
/// derives from them comes from their encoding, field by field, so that a new field needs no second list:
/// - the fingerprint the ranks agree on is the canonical JSON of every field;
/// - the fields a training state records, which must be the same when a run resumes, are all fields but those in
///   `changeableOnResume`. A new field is fixed on resume until it is named there.
public protocol ExperimentConfig: Encodable, Sendable {
    /// Field paths (as in `fields`, such as `out` or `optimization.steps`) that may change when a run resumes:
    /// the run's length, where it writes, and what is only scored or reported.
    static var changeableOnResume: Set<String> { get }
}

extension ExperimentConfig {
    /// Every field as path → its value as text (a string as it is, anything else as JSON): nested settings as
    /// `parent.child`, file paths made absolute, optional fields that are not set left out.
    public var fields: [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every field type is Encodable by construction (the protocol); a failure here is a programming error.
        let object = try! JSONSerialization.jsonObject(with: try! encoder.encode(self), options: [.fragmentsAllowed])
        var fields: [String: String] = [:]
        func flatten(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any], !dictionary.isEmpty {
                for (key, child) in dictionary { flatten(child, path.isEmpty ? key : "\(path).\(key)") }
            } else {
                fields[path] = value as? String ?? JSONLine.encode(fragment: value)
            }
        }
        flatten(object, "")
        return fields
    }

    /// A canonical text of every field, which every rank must hold alike.
    public var fingerprint: String {
        fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
    }

    /// The fields that fix the trajectory: they cannot change when the run resumes.
    public var fixedOnResume: [String: String] {
        fields.filter { !Self.changeableOnResume.contains($0.key) }
    }
}

/// A field that names a file or folder. It encodes as the absolute path, so that a run resumed from another working
/// folder names the same data; the field itself keeps the spelling the user gave, for messages.
@propertyWrapper
public struct FilePath<Value: PathValue>: Encodable, Sendable {
    public var wrappedValue: Value
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.absolute)
    }
}

/// A path or an optional one.
public protocol PathValue: Encodable, Sendable {
    var absolute: Self { get }
}

extension String: PathValue {
    public var absolute: String { canonicalPath(self) }
}

extension Optional: PathValue where Wrapped == String {
    public var absolute: String? { map(canonicalPath) }
}

// MARK: settings types, encoded by their command-line spelling

extension Architecture: Encodable {}
extension Precision.Choice: Encodable {}
extension BadImagePolicy: Encodable {}
extension SPNHead.Statistics: Encodable {}

extension SampleAugmentation: Encodable {
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
