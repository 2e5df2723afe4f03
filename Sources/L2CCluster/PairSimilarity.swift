/// Pairwise supervision for a global batch of N samples: S[i][j] = +1 same, −1 different, 0 unknown.
///
/// Losses ask for blocks of rows (global sample indices) over all N columns, so that no N×N matrix
/// has to exist at once.
public protocol PairSimilarity {
    /// Number of samples N in the global batch.
    var count: Int { get }
    /// Writes S[i][0..<N] for each i in `rows`, row after row, into `out` (rows.count × N values).
    func fill(rows: Range<Int>, into out: UnsafeMutablePointer<Int8>)
}

/// Similarity from class labels (L2C's Class2Simi): +1 if equal, −1 if not; a negative label is unknown (0).
public struct LabelSimilarity: PairSimilarity {
    /// Int32 so that the comparison loop vectorises.
    private let labels: [Int32]
    public init(labels: [Int]) { self.labels = labels.map { Int32(clamping: $0) } }
    public var count: Int { labels.count }

    public func fill(rows: Range<Int>, into out: UnsafeMutablePointer<Int8>) {
        let n = labels.count
        labels.withUnsafeBufferPointer { l in
            for (r, i) in rows.enumerated() {
                let row = out + r * n
                let li = l[i]
                if li < 0 { row.update(repeating: 0, count: n); continue }
                for j in 0..<n {
                    let same: Int8 = l[j] == li ? 1 : -1
                    row[j] = l[j] < 0 ? 0 : same
                }
            }
        }
    }
}

/// An explicit N×N similarity matrix, row-major (test cases, predicted similarity of small batches).
public struct MatrixSimilarity: PairSimilarity {
    public let values: [Int8]
    public let count: Int
    public init(values: [Int8], count: Int) {
        precondition(values.count == count * count, "similarity matrix needs \(count)×\(count) values")
        self.values = values
        self.count = count
    }

    public func fill(rows: Range<Int>, into out: UnsafeMutablePointer<Int8>) {
        values.withUnsafeBufferPointer { v in
            out.update(from: v.baseAddress! + rows.lowerBound * count, count: rows.count * count)
        }
    }
}
