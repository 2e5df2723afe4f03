import Foundation

/// One sample per row of comma-separated numbers, the label in a chosen column (the last by default),
/// raw or gzip. Pixel values are divided by `scale` (255 for MNIST-like data).
public enum CSVReader {
    public static func dataset(_ path: String, height: Int, width: Int, labelColumn: Int? = nil, scale: Float = 255) throws -> Dataset {
        let bytes = try FileBytes.read(path)
        let features = height * width
        let columns = features + 1
        let labelAt = labelColumn ?? features
        guard labelAt >= 0 && labelAt < columns else { throw DataError(path, "label column \(labelAt) outside 0..<\(columns)") }
        var images: [Float] = []
        var labels: [Int] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            let fields = text.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns else {
                throw DataError(path, "line \(lineNumber): expected \(columns) comma-separated fields (\(features) values and a label), found \(fields.count)")
            }
            for (c, field) in fields.enumerated() {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                if c == labelAt {
                    guard let label = Int(trimmed), label >= 0 else { throw DataError(path, "line \(lineNumber), column \(c + 1): expected a non-negative integer label, found '\(trimmed)'") }
                    labels.append(label)
                } else {
                    guard let v = Float(trimmed) else { throw DataError(path, "line \(lineNumber), column \(c + 1): expected a number, found '\(trimmed)'") }
                    images.append(v / scale)
                }
            }
        }
        guard !labels.isEmpty else { throw DataError(path, "no rows") }
        return Dataset(images: images, labels: labels, channels: 1, height: height, width: width, source: path)
    }
}
