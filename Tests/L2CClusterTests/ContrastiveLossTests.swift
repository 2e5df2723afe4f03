import Foundation
import L2CCluster
import L2CComm
import L2CTensor
import XCTest

/// NT-Xent over two views per sample: its value is the textbook formula, its gradient is the formula's derivative,
/// and R ranks holding shares of the batch compute what one rank holding all of it does.
final class ContrastiveLossTests: XCTestCase {
    private func embeddings(samples: Int, width: Int, seed: UInt64) -> [[Double]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<(2 * samples)).map { _ in (0..<width).map { _ in Double(rng.normal()) } }
    }

    /// (1/2N) Σ_i [log Σ_{j≠i} exp(cos(h_i, h_j)/τ) − cos(h_i, h_p(i))/τ] in float64, rows [view 0 of all; view 1 of all].
    private func referenceLoss(_ h: [[Double]], temperature τ: Double) -> Double {
        let z = h.map { row in row.map { $0 / sqrt(row.reduce(0) { $0 + $1 * $1 }) } }
        let n = z.count / 2
        var sum = 0.0
        for i in z.indices {
            let s = z.indices.map { j in zip(z[i], z[j]).reduce(0) { $0 + $1.0 * $1.1 } / τ }
            let others = z.indices.filter { $0 != i }.map { exp(s[$0]) }.reduce(0, +)
            sum += log(others) - s[(i + n) % (2 * n)]
        }
        return sum / Double(z.count)
    }

    /// Rank `rank`'s rows of `ranks`: [view 0 of its samples; view 1 of its samples].
    private func rankRows(_ h: [[Double]], rank: Int, ranks: Int) -> [[Double]] {
        let n = h.count / 2, local = n / ranks
        let mine = (rank * local)..<((rank + 1) * local)
        return Array(h[mine]) + mine.map { h[n + $0] }
    }

    private func tensor(_ rows: [[Double]]) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], values: rows.flatMap { $0.map(Float.init) })
    }

    func testLossIsTheNormalisedTemperatureCrossEntropyOfTheOtherView() {
        let h = embeddings(samples: 6, width: 4, seed: 1)
        for τ in [0.5, 0.1] {
            let result = ContrastiveLoss(temperature: Float(τ)).evaluate(localEmbeddings: tensor(h), communicator: SingleProcessCommunicator())
            XCTAssertEqual(result.loss, referenceLoss(h, temperature: τ), accuracy: 1e-5, "τ = \(τ)")
        }
    }

    func testGradientMatchesFiniteDifferences() {
        let h = embeddings(samples: 5, width: 3, seed: 2)
        let grad = ContrastiveLoss().evaluate(localEmbeddings: tensor(h), communicator: SingleProcessCommunicator()).gradEmbeddings
        let step = 1e-5
        for i in h.indices {
            for c in h[i].indices {
                var plus = h, minus = h
                plus[i][c] += step
                minus[i][c] -= step
                let numeric = (referenceLoss(plus, temperature: 0.5) - referenceLoss(minus, temperature: 0.5)) / (2 * step)
                XCTAssertEqual(Double(grad[i * 3 + c]), numeric, accuracy: 1e-5, "dL/dh[\(i), \(c)]")
            }
        }
    }

    func testRanksHoldingSharesOfTheBatchComputeWhatOneRankDoes() {
        let (samples, width, ranks) = (12, 5, 3)
        let h = embeddings(samples: samples, width: width, seed: 3)
        let single = ContrastiveLoss().evaluate(localEmbeddings: tensor(h), communicator: SingleProcessCommunicator())
        let split = ThreadedRanks(size: ranks).run { rank, comm in
            ContrastiveLoss().evaluate(localEmbeddings: self.tensor(self.rankRows(h, rank: rank, ranks: ranks)), communicator: comm)
        }
        let local = samples / ranks
        for (rank, result) in split.enumerated() {
            XCTAssertEqual(result.loss, single.loss, accuracy: 1e-6)
            for r in 0..<(2 * local) {
                let globalRow = r < local ? rank * local + r : samples + rank * local + (r - local)
                for c in 0..<width {
                    XCTAssertEqual(result.gradEmbeddings[r * width + c], single.gradEmbeddings[globalRow * width + c], accuracy: 1e-6,
                                   "rank \(rank) row \(r) column \(c)")
                }
            }
        }
    }
}
