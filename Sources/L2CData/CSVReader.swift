import Foundation
import L2CComm

/// One sample per row of comma-separated numbers: the pixels of a square grey image and a label, raw or gzip.
/// The side is inferred from the first row (784 values → 28×28, 64 → 8×8); the label sits in `labelColumn`
/// (0-based; the last column by default). Pixel values are divided by `scale` (255 for 8-bit pixels).
public enum CSVReader {
    public static func dataset(_ path: String, labelColumn: Int? = nil, scale: Float = 255) throws -> Dataset {
        let bytes = try FileBytes.read(path)
        var images: [Float] = []
        var labels: [Int] = []
        var columns = 0
        var labelAt = 0
        var side = 0
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            let fields = text.split(separator: ",", omittingEmptySubsequences: false)
            if columns == 0 {
                columns = fields.count
                side = Int(Double(columns - 1).squareRoot().rounded())
                guard side * side == columns - 1, side > 0 else {
                    throw InputError(path, "line \(lineNumber): expected the pixels of a square image and a label, but \(columns - 1) values is not a square number")
                }
                labelAt = labelColumn ?? columns - 1
                guard labelAt >= 0 && labelAt < columns else { throw InputError(path, "label column \(labelAt) outside 0..<\(columns)") }
            }
            guard fields.count == columns else {
                throw InputError(path, "line \(lineNumber): expected \(columns) comma-separated fields (\(columns - 1) pixels and a label, as on the first row), found \(fields.count)")
            }
            for (c, field) in fields.enumerated() {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                if c == labelAt {
                    guard let label = Int(trimmed), label >= 0 else {
                        throw InputError(path, "line \(lineNumber), column \(c + 1): expected a non-negative integer label, found '\(trimmed)'")
                    }
                    labels.append(label)
                } else {
                    guard let v = Float(trimmed), v.isFinite else {
                        throw InputError(path, "line \(lineNumber), column \(c + 1): expected a finite number, found '\(trimmed)'")
                    }
                    images.append(v / scale)
                }
            }
        }
        guard !labels.isEmpty else { throw InputError(path, "no rows") }
        return Dataset(images: images, labels: labels, channels: 1, height: side, width: side, source: path)
    }
}
