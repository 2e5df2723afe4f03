import L2CTensor
import XCTest

/// A bf16 ResNet stores activations and their gradients in bf16 between layers: BatchNorm, pooling and the
/// residual sum take and give bf16 tensors, and agree with their fp32 selves fed the same bf16-rounded values
/// within bf16's rounding (8 significant bits: 2⁻⁹ relative per stored value, a few of them per result).
final class BF16ActivationTests: XCTestCase {
    static let tolerance: Float = 1e-2

    /// `random` rounded to bf16 and widened back: the values both precisions see.
    private func representable(_ shape: [Int], seed: UInt64) -> Tensor {
        BFloat16Conversion.widened(BFloat16Conversion.narrowed(GradientCheck.random(shape, seed: seed)))
    }

    private func normPair(relu: Bool) -> (bf16: BlockedBatchNorm, fp32: BlockedBatchNorm) {
        let pair = (BlockedBatchNorm(32, relu: relu, communicator: nil, pool: TensorPool()), BlockedBatchNorm(32, relu: relu, communicator: nil, pool: TensorPool()))
        for (p, q) in zip(pair.0.parameters, pair.1.parameters) {
            for i in 0..<p.parameter.value.count { let v = Float(i % 7) * 0.3 - 0.5; p.parameter.value[i] = v; q.parameter.value[i] = v }
        }
        return pair
    }

    func testBatchNormOnBF16MatchesFP32WithResidualReLUAndRunningStatistics() throws {
        try requireNativeBF16()
        for training in [true, false] {
            for relu in [true, false] {
                let (bf16, fp32) = normPair(relu: relu)
                let residual = BlockedLayout.toBlocked(representable([3, 32, 5, 6], seed: 12))
                let a = ResidualView(bf16, residual: BlockedLayout.toBlocked(BlockedLayout.toPlain(residual), element: .bfloat16), blocked: true,
                                     element: .bfloat16)
                let b = ResidualView(fp32, residual: residual, blocked: true)
                let errors = LayerComparison.assertSame(a, b, input: representable([3, 32, 5, 6], seed: 13), pass: Pass(training: training),
                                                        tolerance: Self.tolerance)
                XCTAssertGreaterThan(errors.output, 1e-6, "really rounded to bf16")
                XCTAssertLessThanOrEqual(LayerComparison.relativeError(a.residualGradient, b.residualGradient), Self.tolerance)
                XCTAssertLessThanOrEqual(LayerComparison.relativeError(bf16.runningMean, fp32.runningMean), 1e-5, "statistics are fp32")
                XCTAssertLessThanOrEqual(LayerComparison.relativeError(bf16.runningVariance, fp32.runningVariance), 1e-5)
            }
        }
    }

    func testPoolingOnBF16MatchesFP32AndGlobalAverageGivesFP32Features() throws {
        try requireNativeBF16()
        let input = representable([2, 32, 9, 8], seed: 15)
        let max16 = BlockedView(DNNLPool2d(.max, kernel: 3, stride: 2, padding: 1, pool: TensorPool()), element: .bfloat16)
        _ = LayerComparison.assertSame(max16, BlockedView(DNNLPool2d(.max, kernel: 3, stride: 2, padding: 1, pool: TensorPool())),
                                       input: input, tolerance: Self.tolerance)
        let average = DNNLPool2d.globalAverage(pool: TensorPool())
        let features = average.forward(BlockedLayout.toBlocked(input, element: .bfloat16), Pass(training: true))
        XCTAssertEqual(features.element, .float32)
        XCTAssertEqual(average.backward(GradientCheck.random([2, 32], seed: 16)).element, .bfloat16)
        _ = LayerComparison.assertSame(BlockedView(DNNLPool2d.globalAverage(pool: TensorPool()), element: .bfloat16),
                                       BlockedView(DNNLPool2d.globalAverage(pool: TensorPool())), input: input, tolerance: Self.tolerance)
    }

    /// oneDNN has no bf16 kernel for a 7×7/2 stem convolution on a 4×4 image: that layer runs fp32 kernels and
    /// rounds its output, and still gives bf16 to the layers after it.
    func testConvolutionWithoutABF16KernelRunsFP32AndGivesBF16() throws {
        try requireNativeBF16()
        var rng = RandomGenerator(seed: 4)
        let reference = Conv2d(3, 64, kernel: 7, stride: 2, padding: 3, bias: false, rng: &rng)
        let make = { (precision: Precision) in
            DNNLConv2d(3, 64, kernel: 7, stride: 2, padding: 3, inputLayout: .plain, computesInputGradient: false,
                       weight: reference.weight.value.clone(), pool: TensorPool(), precision: precision)
        }
        let bf16 = make(.bf16)
        let input = GradientCheck.random([4, 3, 4, 4], seed: 7)
        XCTAssertEqual(bf16.forward(input, Pass(training: true)).element, .bfloat16)
        XCTAssertFalse(bf16.runsBF16)
        _ = LayerComparison.assertSame(BlockedView(bf16, blockedInput: false), BlockedView(make(.fp32), blockedInput: false), input: input,
                                       tolerance: Self.tolerance, comparesInputGradient: false)
    }

    /// a + b on bf16 tensors rounds the exact fp32 sum once, as the conversion does.
    func testResidualSumRoundsOnce() {
        let a = BFloat16Conversion.narrowed(GradientCheck.random([4096], seed: 1))
        let b = BFloat16Conversion.narrowed(GradientCheck.random([4096], seed: 2))
        let (wa, wb) = (BFloat16Conversion.widened(a), BFloat16Conversion.widened(b))
        let exact = Tensor(shape: [4096], values: (0..<4096).map { wa[$0] + wb[$0] })
        let sum = a.clone()
        BFloat16Conversion.add(sum.raw, b.raw, count: sum.count)
        XCTAssertEqual(BFloat16Conversion.widened(sum).array, BFloat16Conversion.widened(BFloat16Conversion.narrowed(exact)).array)
    }

    /// The whole trunk keeps bf16 between layers: less memory than fp32 for the same batch.
    func testBF16TrunkEndsInFP32Features() throws {
        try requireNativeBF16()
        var rng = RandomGenerator(seed: 3)
        let trunk = ResNet.resnet18.trunk(stem: .small, precision: .bf16, rng: &rng, communicator: nil)
        let features = trunk.forward(GradientCheck.random([4, 3, 16, 16], seed: 4), Pass(training: true))
        XCTAssertEqual(features.shape, [4, 512])
        XCTAssertEqual(features.element, .float32)
        XCTAssertTrue(features.array.allSatisfy(\.isFinite))
        XCTAssertEqual(trunk.backward(GradientCheck.random([4, 512], seed: 5)).element, .float32, "the image's (unused) gradient")
    }
}
