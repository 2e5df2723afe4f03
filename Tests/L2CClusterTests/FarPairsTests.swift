import XCTest
import L2CComm
import L2CTensor
import L2CCluster

/// Far pairs in a feature space called dissimilar, and the target geometry that lays them and the neighbours over
/// the SPN's pairs.
final class FarPairsTests: XCTestCase {
    /// Unit rows at angles θ in the plane: row i is (cos θᵢ, sin θᵢ).
    func planeRows(_ degrees: [Double]) -> [Float] {
        degrees.flatMap { [Float(cos($0 * .pi / 180)), Float(sin($0 * .pi / 180))] }
    }

    func filled(_ pairs: any PairSimilarity, rows: Range<Int>? = nil) -> [Int8] {
        let rows = rows ?? 0..<pairs.count
        var out = [Int8](repeating: 0, count: rows.count * pairs.count)
        out.withUnsafeMutableBufferPointer { pairs.fill(rows: rows, into: $0.baseAddress!) }
        return out
    }

    func testPairsBelowTheFarCosineAreDissimilarAndEveryOtherPairKeepsTheBaseSupervision() {
        // Samples at 0°, 30°, 90° and 180°: cosines 0.87 (0–30), 0 (0–90), 0.5 (30–90), −1 (0–180), …
        let space = FarPairs.Space(unitRows: planeRows([0, 30, 90, 180]), dimension: 2, farCosine: 0.1)
        let base = MatrixSimilarity(values: [Int8](repeating: 1, count: 16), count: 4)   // the base calls every pair similar
        let pairs = FarPairs(base: base, samples: [2, 0, 3, 1], space: space)           // batch order: 90°, 0°, 180°, 30°
        let expected: [Int8] = [
            1, -1, -1, 1,     // 90°: 0° (cos 0) and 180° (cos 0) far, 30° (cos 0.5) not
            -1, 1, -1, 1,
            -1, -1, 1, -1,
            1, 1, -1, 1,
        ]
        XCTAssertEqual(filled(pairs), expected)
        XCTAssertEqual(filled(pairs, rows: 2..<4), Array(expected[8..<16]), "a block of rows is the same rows of the whole")
        // The same rule sample by sample, as the cluster count filters the SPN's similar pairs.
        XCTAssertEqual((0..<4).map { a in (0..<4).map { b in space.isFar(a, b) } },
                       [[false, false, true, true], [false, false, false, true], [true, false, false, true], [true, true, true, false]])
    }

    func testTheFarCosineIsTheMedianOfThePairCosines() {
        var rng = RandomGenerator(seed: 11)
        let (n, d) = (40, 6)
        let raw = (0..<(n * d)).map { _ in abs(rng.normal()) }
        let unit = NeighbourTable.unitRows(raw, count: n, dimension: d, centred: false)
        var cosines: [Float] = []
        for i in 0..<n { for j in 0..<n where j != i { cosines.append((0..<d).reduce(0) { $0 + unit[i * d + $1] * unit[j * d + $1] }) } }
        cosines.sort()
        let space = FarPairs.Space(medianOf: unit, dimension: d)   // 40 rows: every row is sampled
        XCTAssertEqual(space.farCosine, cosines[cosines.count / 2], accuracy: 1e-5)
        let below = cosines.filter { $0 < space.farCosine }.count
        XCTAssertEqual(Double(below) / Double(cosines.count), 0.5, accuracy: 0.01, "half of the pairs are far")
        let strided = FarPairs.Space(medianOf: unit, dimension: d, sampledRows: 10)   // rows 0, 4, 8, … against all
        XCTAssertEqual(strided.farCosine, cosines[cosines.count / 2], accuracy: 0.05, "a strided sample estimates it")
    }

    func testNeighboursWinOverFarPairsAndTheSPNDecidesTheRest() {
        // 0 lists 3 as its neighbour although they are far apart (0° and 180°).
        let table = NeighbourTable(count: 4, k: 1, indices: [3, 2, 1, 2])
        let geometry = TargetGeometry(neighbours: table, far: FarPairs.Space(unitRows: planeRows([0, 30, 90, 180]), dimension: 2, farCosine: 0.1))
        let spn = MatrixSimilarity(values: [Int8](repeating: -1, count: 9), count: 3)
        let pairs = geometry.pairs(over: spn, samples: [0, 3, 1])
        XCTAssertEqual(filled(pairs), [
            -1, 1, -1,   // 0–3: neighbours, although far; 0–1 (cos 0.87): the SPN's −1
            1, -1, -1,   // 3–1 (cos −0.87): far
            -1, -1, -1,
        ])
        let plain = TargetGeometry(neighbours: nil, far: nil)
        XCTAssertEqual(plain.batch([5, 6, 7], step: 1, seed: 2), [5, 6, 7], "without neighbours the batch is as drawn")
        XCTAssertEqual(filled(plain.pairs(over: spn, samples: [0, 3, 1])), [Int8](repeating: -1, count: 9), "without geometry the SPN decides")
    }
}
