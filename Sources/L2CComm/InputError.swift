/// A problem with what the user gave L2C: an option, a file, or a field of one. `subject` names it (`--lr`,
/// `data/x.csv`, `data/x.csv line 3`) and `message` says what was expected, so that the one line every rank prints
/// is enough to fix the input.
public struct InputError: Error, CustomStringConvertible {
    /// The option or file (with the field, where one applies) that is wrong.
    public let subject: String
    public let message: String
    public init(_ subject: String, _ message: String) {
        self.subject = subject
        self.message = message
    }
    public var description: String { "\(subject): \(message)" }
}
