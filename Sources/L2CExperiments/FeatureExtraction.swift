import Foundation
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// A backbone's features of every sample of a dataset (evaluation pass), count × width, row-major.
enum FeatureExtraction {
    static let blockRows = 256

    /// Blocks of 256 samples (`blockRows`: block b on rank b mod R, all-gathered), so every rank holds every row, and
    /// each row is the same on any rank count (the same blocks through the same layers).
    static func features(_ backbone: Sequential, _ data: Dataset, communicator comm: any Communicator = SingleProcessCommunicator()) -> (values: [Float], width: Int) {
        let count = data.count
        let width = backbone.forward(data.batch(0..<1), .evaluation).columns
        let values = L2CComm.blockRows(count: count, width: width, blockRows: blockRows, padding: Float(0), communicator: comm) { first, rows, out in
            let features = backbone.forward(data.batch(first..<(first + rows)), .evaluation)
            for (i, v) in features.array.enumerated() { out[i] = v }
        }
        return (values, width)
    }
}
