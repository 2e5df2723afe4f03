import Foundation
import L2CComm

/// Fine classes grouped into coarse ones (ACOL's parents).
public enum CoarseLabels {
    /// A mapping file: one line per fine class, `fine_label coarse_label` (whitespace-separated; # comments).
    /// Every class of `classes` must be mapped, only classes of `classes` may be, and the coarse labels must be
    /// 0..<parents.
    public static func read(_ path: String, classes: [Int], parents: Int) throws -> [Int: Int] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw InputError(path, "no such file or unreadable") }
        var map: [Int: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2, let fine = Int(fields[0]), let coarse = Int(fields[1]) else {
                throw InputError(path, "line \(index + 1): expected 'fine_label coarse_label', found '\(line)'")
            }
            guard classes.contains(fine) else {
                throw InputError(path, "line \(index + 1): class \(fine) is not in the data (its classes are \(classes))")
            }
            guard coarse >= 0 && coarse < parents else {
                throw InputError(path, "line \(index + 1): coarse label \(coarse) outside 0..<\(parents) (--parents \(parents))")
            }
            guard map[fine] == nil else { throw InputError(path, "line \(index + 1): class \(fine) is mapped twice") }
            map[fine] = coarse
        }
        let unmapped = classes.filter { map[$0] == nil }
        guard unmapped.isEmpty else { throw InputError(path, "class(es) \(unmapped) of the data are not mapped to a coarse label") }
        let empty = (0..<parents).filter { p in !map.values.contains(p) }
        guard empty.isEmpty else { throw InputError(path, "coarse label(s) \(empty) have no class (--parents \(parents))") }
        return map
    }

    /// The rule "blocks": the sorted classes cut into `parents` contiguous blocks of equal size
    /// (MNIST digits 0–4 → 0, 5–9 → 1 for two parents).
    public static func blocks(classes: [Int], parents: Int) throws -> [Int: Int] {
        guard parents >= 1, classes.count % parents == 0 else {
            throw InputError("--parents", "\(classes.count) classes do not split into \(parents) equal blocks; give --coarse-map")
        }
        let size = classes.count / parents
        return Dictionary(uniqueKeysWithValues: classes.sorted().enumerated().map { ($1, $0 / size) })
    }
}
