/// A problem with input data, naming the file, the field and what was expected.
public struct DataError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}
