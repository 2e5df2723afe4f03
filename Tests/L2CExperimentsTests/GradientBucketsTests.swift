import L2CBench
import L2CComm
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor
import XCTest

/// How a flat gradient buffer is cut into all-reduce buckets, and when each bucket may travel.
final class GradientBucketsTests: XCTestCase {
    /// Three parameters of 40, 10 and 30 floats after 3 spare floats: ranges 16..<56, 64..<74, 80..<110.
    private func flat() -> (FlatParameters, [(name: String, parameter: Parameter)]) {
        let parameters = [40, 10, 30].enumerated().map { i, n in (name: "p\(i)", parameter: Parameter(Tensor(shape: [n]), decays: true)) }
        return (FlatParameters(parameters, spare: 3), parameters)
    }

    func testBucketsAreCutFromTheEndAndCoverTheBufferOnce() {
        let (flat, _) = flat()
        XCTAssertEqual(flat.gradientRanges, [16..<56, 64..<74, 80..<110])
        let buckets = GradientBuckets(parameterRanges: flat.gradientRanges, count: flat.gradients.count, bucketFloats: 32)
        XCTAssertEqual(flat.gradients.count, 112)
        XCTAssertEqual(buckets.ranges, [80..<112, 48..<80, 16..<48, 0..<16], "the tail first; the last bucket holds the spare floats")
    }

    func testAParameterSplitAcrossBucketsMakesEachOfThemWaitForIt() {
        let (flat, _) = flat()
        let buckets = GradientBuckets(parameterRanges: flat.gradientRanges, count: flat.gradients.count, bucketFloats: 32)
        // p0 (16..<56) spans buckets 2 (16..<48) and 1 (48..<80); p1 lies in bucket 1; p2 fills bucket 0.
        XCTAssertEqual(buckets.bucketsOfParameter, [1..<3, 1..<2, 0..<1])
        XCTAssertEqual(buckets.parameterCounts, [1, 2, 1, 0], "bucket 3 holds only the spare floats")
    }

    func testOneHugeBucketHoldsEverything() {
        let (flat, _) = flat()
        let buckets = GradientBuckets(parameterRanges: flat.gradientRanges, count: flat.gradients.count, bucketFloats: 1 << 30)
        XCTAssertEqual(buckets.ranges, [0..<112])
        XCTAssertEqual(buckets.bucketsOfParameter, [0..<1, 0..<1, 0..<1])
        XCTAssertEqual(buckets.parameterCounts, [3])
    }

    func testManyTinyBucketsEachKnowTheirParameter() {
        let (flat, _) = flat()
        let buckets = GradientBuckets(parameterRanges: flat.gradientRanges, count: flat.gradients.count, bucketFloats: 16)
        XCTAssertEqual(buckets.count, 7)
        XCTAssertEqual(buckets.ranges.last, 0..<16)
        XCTAssertEqual(buckets.bucketsOfParameter[0], 3..<6, "40 floats at 16..<56 touch three 16-float buckets")
        // Every float of every parameter lies in exactly one of the parameter's buckets.
        for (p, range) in flat.gradientRanges.enumerated() {
            for offset in range {
                let holders = buckets.ranges.indices.filter { buckets.ranges[$0].contains(offset) }
                XCTAssertEqual(holders.count, 1)
                XCTAssertTrue(buckets.bucketsOfParameter[p].contains(holders[0]))
            }
        }
    }

    func testBucketSizesAreWholeCacheLines() {
        var exchange = GradientExchange()
        exchange.bucketMegabytes = 0.0001
        XCTAssertEqual(exchange.bucketFloats, 16)
        exchange.bucketMegabytes = 4
        XCTAssertEqual(exchange.bucketFloats, 1_048_576, "4 MB")
    }

    /// On one rank there is nothing to exchange: the control values come back as they were, the gradients untouched.
    func testOneRankLeavesGradientsAndControlAlone() {
        let (flat, parameters) = flat()
        parameters[2].parameter.gradient.fill(2)
        let reducer = GradientReducer(flat: flat, parameters: parameters, communicator: SingleProcessCommunicator(), exchange: GradientExchange())
        XCTAssertFalse(reducer.overlap, "no communication thread for one rank")
        var control: [Float] = [1, 0, 1]
        let timing = reducer.finish(control: &control)
        XCTAssertEqual(control, [1, 0, 1])
        XCTAssertEqual(parameters[2].parameter.gradient.array, [Float](repeating: 2, count: 30))
        XCTAssertEqual(timing.exposedSeconds, 0)
    }
}

/// bfloat16 on the wire: the top 16 bits of an fp32, rounded to nearest even.
final class BFloat16Tests: XCTestCase {
    func testRoundingKeepsEightBitsOfMantissaToNearestEven() {
        XCTAssertEqual(BFloat16.round(1), 1)
        XCTAssertEqual(BFloat16.round(-2.5), -2.5)
        // 1 + 2⁻⁸ lies half way between 1 and 1 + 2⁻⁷: ties go to the even one, 1.
        XCTAssertEqual(BFloat16.round(1 + 1.0 / 256), 1)
        XCTAssertEqual(BFloat16.round(1 + 3.0 / 256), 1 + 4.0 / 256, "a tie rounds up to the even neighbour")
        XCTAssertEqual(BFloat16.round(1 + 1.0 / 256 + 1.0 / 4096), 1 + 1.0 / 128, "above half way rounds up")
        for x: Float in [3.14159, -1e-20, 6.5e4, 1e30] {
            XCTAssertLessThanOrEqual(abs(BFloat16.round(x) - x), abs(x) / 256, "\(x)")
        }
    }

    /// Without other ranks the emulated exchange rounds to bf16 only.
    func testTheSingleProcessExchangeRoundsToBF16() {
        var values: [Float] = [1 + 1.0 / 4096, 0.1]
        let request = values.withUnsafeMutableBufferPointer {
            SingleProcessCommunicator().startAllReduceSum($0.baseAddress!, count: 2, wire: .bf16)
        }
        XCTAssertTrue(request.test())
        XCTAssertEqual(values, [1, BFloat16.round(0.1)])
    }
}
