import Foundation
import L2CComm
import L2CData
import L2CTensor

/// A backbone's features of every sample of a dataset (evaluation pass), count × width, row-major.
enum FeatureExtraction {
    static let blockRows = 256

    /// Blocks of 256 samples; block b is computed by rank b mod R and all of them are all-gathered, so every rank
    /// holds every row, and each row is the same on any rank count (the same blocks through the same layers).
    static func features(_ backbone: Sequential, _ data: Dataset, communicator comm: any Communicator = SingleProcessCommunicator()) -> (values: [Float], width: Int) {
        let count = data.count
        let width = backbone.forward(data.batch(0..<1), .evaluation).columns
        let blocks = (count + blockRows - 1) / blockRows
        let blocksPerRank = (blocks + comm.size - 1) / comm.size
        let slot = blockRows * width
        var mine = [Float](repeating: 0, count: blocksPerRank * slot)
        for (position, block) in stride(from: comm.rank, to: blocks, by: comm.size).enumerated() {
            let first = block * blockRows
            let out = backbone.forward(data.batch(first..<min(first + blockRows, count)), .evaluation)
            for (i, v) in out.array.enumerated() { mine[position * slot + i] = v }
        }
        guard comm.size > 1 else { return (Array(mine.prefix(count * width)), width) }
        var all = [Float](repeating: 0, count: comm.size * mine.count)
        mine.withUnsafeBufferPointer { m in all.withUnsafeMutableBufferPointer { comm.allGather(m.baseAddress!, count: m.count, into: $0.baseAddress!) } }
        var values = [Float](repeating: 0, count: count * width)
        for block in 0..<blocks {
            let source = (block % comm.size) * mine.count + (block / comm.size) * slot
            let first = block * blockRows, rows = min(blockRows, count - first)
            for p in 0..<(rows * width) { values[first * width + p] = all[source + p] }
        }
        return (values, width)
    }
}
