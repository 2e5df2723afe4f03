/// Elements that `Communicator.allGather` moves.
public protocol AllGatherable: Numeric {
    static func allGather(_ send: UnsafePointer<Self>, count: Int, into recv: UnsafeMutablePointer<Self>, communicator: any Communicator)
}

extension Float: AllGatherable {
    public static func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>, communicator: any Communicator) {
        communicator.allGather(send, count: count, into: recv)
    }
}

extension Int64: AllGatherable {
    public static func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>, communicator: any Communicator) {
        communicator.allGather(send, count: count, into: recv)
    }
}

/// Rows of a table of `count` rows × `width` values computed in blocks of `blockRows` rows: block b on rank b mod R,
/// then all-gathered, so every rank holds the whole table, and each row is computed the same way on any rank count.
/// `compute(first, rows, out)` writes rows first..<first+rows into `out` (rows × width values).
public func blockRows<Element: AllGatherable>(count: Int, width: Int, blockRows: Int, padding: Element, communicator comm: any Communicator,
                                              _ compute: (_ first: Int, _ rows: Int, _ out: UnsafeMutablePointer<Element>) -> Void) -> [Element] {
    let blocks = (count + blockRows - 1) / blockRows
    let blocksPerRank = (blocks + comm.size - 1) / comm.size
    let slot = blockRows * width
    var mine = [Element](repeating: padding, count: blocksPerRank * slot)
    mine.withUnsafeMutableBufferPointer { m in
        for (position, block) in stride(from: comm.rank, to: blocks, by: comm.size).enumerated() {
            let first = block * blockRows
            compute(first, min(blockRows, count - first), m.baseAddress! + position * slot)
        }
    }
    var all = [Element](repeating: padding, count: comm.size * mine.count)
    mine.withUnsafeBufferPointer { m in all.withUnsafeMutableBufferPointer { Element.allGather(m.baseAddress!, count: m.count, into: $0.baseAddress!, communicator: comm) } }
    var table = [Element](repeating: padding, count: count * width)
    for block in 0..<blocks {
        let source = (block % comm.size) * mine.count + (block / comm.size) * slot
        let first = block * blockRows, rows = min(blockRows, count - first)
        for p in 0..<(rows * width) { table[first * width + p] = all[source + p] }
    }
    return table
}
