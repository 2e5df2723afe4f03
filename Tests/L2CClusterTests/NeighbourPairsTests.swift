import XCTest
import L2CComm
import L2CTensor
import L2CCluster

/// Nearest neighbours of the target and the similar pairs they add to a batch's supervision.
final class NeighbourPairsTests: XCTestCase {
    /// `count` points in `groups` tight groups of random directions (point i in group i mod groups).
    func groupedPoints(count: Int, groups: Int, dimension: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        let centres = (0..<(groups * dimension)).map { _ in rng.normal() }
        return (0..<(count * dimension)).map { p in centres[(p / dimension % groups) * dimension + p % dimension] + 0.1 * rng.normal() }
    }

    /// Brute force: cosine similarity of (centred) rows, sorted, self excluded, ties to the lower index.
    func bruteForce(_ points: [Float], count: Int, dimension: Int, k: Int, centred: Bool = true) -> [Int32] {
        let mean = (0..<dimension).map { d in centred ? (0..<count).reduce(0.0) { $0 + Double(points[$1 * dimension + d]) } / Double(count) : 0 }
        let centred = (0..<count).map { i in (0..<dimension).map { Double(points[i * dimension + $0]) - mean[$0] } }
        let unit = centred.map { row in row.map { $0 / row.reduce(0) { $0 + $1 * $1 }.squareRoot() } }
        return (0..<count).flatMap { i -> [Int32] in
            let similarity = (0..<count).map { j in zip(unit[i], unit[j]).reduce(0.0) { $0 + $1.0 * $1.1 } }
            let others = (0..<count).filter { $0 != i }.sorted { similarity[$0] != similarity[$1] ? similarity[$0] > similarity[$1] : $0 < $1 }
            return others.prefix(k).map { Int32($0) }
        }
    }

    func testTheTableHoldsEachSamplesNearestOthersNearestFirst() {
        let (n, d, k) = (300, 12, 4)   // two blocks of 256 rows
        let points = groupedPoints(count: n, groups: 6, dimension: d, seed: 3)
        let table = NeighbourTable(points: points, count: n, dimension: d, k: k, communicator: SingleProcessCommunicator())
        XCTAssertEqual(table.indices, bruteForce(points, count: n, dimension: d, k: k))
        for i in 0..<n { XCTAssertTrue(table.neighbours(of: i).allSatisfy { Int($0) % 6 == i % 6 }, "sample \(i)'s neighbours are in its group") }
    }

    func testWithoutCentringTheTableRanksByThePlainCosine() {
        // Features after a ReLU: all positive, so centring would change which rows are near.
        let (n, d, k) = (300, 8, 3)
        let points = groupedPoints(count: n, groups: 4, dimension: d, seed: 5).map { abs($0) }
        let table = NeighbourTable(points: points, count: n, dimension: d, k: k, centred: false, communicator: SingleProcessCommunicator())
        XCTAssertEqual(table.indices, bruteForce(points, count: n, dimension: d, k: k, centred: false))
        XCTAssertNotEqual(table.indices, bruteForce(points, count: n, dimension: d, k: k, centred: true))
    }

    func testTheTableIsTheSameOnAnyRankCount() {
        let (n, d, k) = (700, 10, 3)
        let points = groupedPoints(count: n, groups: 5, dimension: d, seed: 4)
        let one = NeighbourTable(points: points, count: n, dimension: d, k: k, communicator: SingleProcessCommunicator()).indices
        for ranks in [2, 3] {
            let split = ThreadedRanks(size: ranks).run { _, comm in
                NeighbourTable(points: points, count: n, dimension: d, k: k, communicator: comm).indices
            }
            for table in split { XCTAssertEqual(table, one, "\(ranks) ranks") }
        }
    }

    func testTheTrustedCountIsATwentiethOfAClassFromOneToTen() {
        XCTAssertEqual(NeighbourTable.trustedCount(samples: 760, clusters: 38), 1)      // 20 images per glyph
        XCTAssertEqual(NeighbourTable.trustedCount(samples: 30_000, clusters: 5), 10)   // Fashion-MNIST 5–9
        XCTAssertEqual(NeighbourTable.trustedCount(samples: 30_000, clusters: 20), 10)
        XCTAssertEqual(NeighbourTable.trustedCount(samples: 2_000, clusters: 20), 5)
        XCTAssertEqual(NeighbourTable.trustedCount(samples: 10, clusters: 5), 1)
    }

    func testAPairedBatchFollowsEachOfItsFirstHalfWithOneOfItsNeighbours() {
        let table = NeighbourTable(count: 6, k: 2, indices: [1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4])
        let batch = NeighbourPairs.pairedBatch([3, 0, 5, 1], table: table, step: 7, seed: 9)
        XCTAssertEqual(batch.count, 4)
        XCTAssertEqual([batch[0], batch[2]], [3, 0])
        XCTAssertTrue(table.lists(batch[1], asNeighbourOf: 3) && table.lists(batch[3], asNeighbourOf: 0))
        XCTAssertEqual(batch, NeighbourPairs.pairedBatch([3, 0, 5, 1], table: table, step: 7, seed: 9), "drawn from (seed, step, sample)")
        let draws = Set((0..<40).map { NeighbourPairs.pairedBatch([3, 0], table: table, step: $0, seed: 9)[1] })
        XCTAssertEqual(draws, [4, 5], "every neighbour gets drawn")
        let odd = NeighbourPairs.pairedBatch([3, 0, 5], table: table, step: 7, seed: 9)
        XCTAssertEqual(odd.count, 3, "cut to the batch size")
        XCTAssertEqual([odd[0], odd[2]], [3, 0])
    }

    func testNeighboursAndRepeatsAreSimilarAndEveryOtherPairKeepsTheBaseSupervision() {
        // 0's neighbour is 1 (one way only), 2 lists nobody in the batch, 3 appears twice.
        let table = NeighbourTable(count: 6, k: 1, indices: [1, 5, 5, 5, 5, 0])
        let samples = [0, 1, 2, 3, 3]
        var values = [Int8](repeating: -1, count: 25)
        (values[2 * 5 + 0], values[0 * 5 + 2]) = (1, 1)   // the base calls 0 and 2 similar
        let pairs = NeighbourPairs(base: MatrixSimilarity(values: values, count: 5), samples: samples, table: table)
        var out = [Int8](repeating: 0, count: 25)
        out.withUnsafeMutableBufferPointer { pairs.fill(rows: 0..<5, into: $0.baseAddress!) }
        let expected: [Int8] = [
            -1, 1, 1, -1, -1,
            1, -1, -1, -1, -1,
            1, -1, -1, -1, -1,
            -1, -1, -1, -1, 1,
            -1, -1, -1, 1, -1,
        ]
        XCTAssertEqual(out, expected)
        var rows = [Int8](repeating: 0, count: 10)
        rows.withUnsafeMutableBufferPointer { pairs.fill(rows: 3..<5, into: $0.baseAddress!) }
        XCTAssertEqual(rows, Array(expected[15..<25]), "a block of rows is the same rows of the whole")
    }
}
