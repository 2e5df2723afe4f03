import Foundation
import L2CComm

/// One JSON object on one line, keys sorted: the machine-readable summaries and the metrics log.
public enum JSONLine {
    public static func encode(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Any JSON value (an object, an array, a string, a number, null) as compact text, keys sorted.
    public static func encode(fragment value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Rounds to a fixed number of significant digits so that logs stay readable.
    public static func round(_ value: Double, digits: Int = 6) -> Double {
        guard value.isFinite, value != 0 else { return value }
        let scale = pow(10, Double(digits) - ceil(log10(abs(value))))
        return (value * scale).rounded() / scale
    }
}

/// Appends JSON lines to a file (the per-step metrics log).
public final class MetricsLog {
    private let handle: FileHandle?

    /// `append` continues an existing log (a resumed run); otherwise the file starts empty.
    public init(path: String?, append: Bool = false) throws {
        guard let path else { handle = nil; return }
        if !(append && FileManager.default.fileExists(atPath: path)) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw InputError(path, "cannot open the metrics log for writing") }
        h.seekToEndOfFile()
        handle = h
    }

    public func write(_ object: [String: Any]) {
        handle?.write(Data((JSONLine.encode(object) + "\n").utf8))
    }

    deinit { try? handle?.close() }
}

/// Progress messages on standard error, from rank 0 only.
public struct Console: Sendable {
    public let enabled: Bool
    public init(rank: Int) { enabled = rank == 0 }
    public func log(_ message: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("l2c: \(message)\n".utf8))
    }
}
