import L2CComm
import L2CTensor
import XCTest

/// The oneDNN layers on blocked activations agree with the im2col/plain reference layers and with finite
/// differences.
final class OneDNNLayerTests: XCTestCase {
    private func convolutionPair(_ inC: Int, _ outC: Int, kernel: Int, stride: Int, padding: Int, plainInput: Bool,
                                 seed: UInt64) -> (oneDNN: any Layer, reference: Conv2d) {
        var rng = RandomGenerator(seed: seed)
        let reference = Conv2d(inC, outC, kernel: kernel, stride: stride, padding: padding, bias: false, rng: &rng)
        let conv = DNNLConv2d(inC, outC, kernel: kernel, stride: stride, padding: padding, inputLayout: plainInput ? .plain : .blocked,
                              weight: reference.weight.value.clone(), pool: TensorPool())
        return (BlockedView(conv, blockedInput: !plainInput), reference)
    }

    func testConvolutionMatchesIm2col() {
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0)] {
            let (a, b) = convolutionPair(32, 16, kernel: k, stride: s, padding: p, plainInput: false, seed: UInt64(k * 10 + s))
            _ = LayerComparison.assertSame(a, b, input: GradientCheck.random([3, 32, 9, 7], seed: 5))
        }
    }

    /// oneDNN has no optimised blocked backward-weights kernel for a 3×3 convolution on a 2×2 image; the plan
    /// runs it on plain activations instead of the (1,000× slower) reference kernel, with the same results.
    func testTinyImagesFallBackToPlainKernelsAndStillMatchIm2col() {
        let (a, b) = convolutionPair(64, 64, kernel: 3, stride: 1, padding: 1, plainInput: false, seed: 4)
        _ = LayerComparison.assertSame(a, b, input: GradientCheck.random([4, 64, 2, 2], seed: 7))
        let (c, d) = convolutionPair(3, 16, kernel: 3, stride: 1, padding: 1, plainInput: true, seed: 5)
        _ = LayerComparison.assertSame(c, d, input: GradientCheck.random([4, 3, 2, 2], seed: 8))
    }

    func testStemConvolutionOnPlainImagesMatchesIm2col() {
        for (k, s, p) in [(7, 2, 3), (3, 1, 1)] {
            let (a, b) = convolutionPair(3, 64, kernel: k, stride: s, padding: p, plainInput: true, seed: 3)
            _ = LayerComparison.assertSame(a, b, input: GradientCheck.random([2, 3, 16, 14], seed: 6))
        }
    }

    func testConvolutionGradientsByFiniteDifferences() {
        let (a, _) = convolutionPair(16, 16, kernel: 3, stride: 2, padding: 1, plainInput: false, seed: 8)
        GradientCheck.check(a, input: GradientCheck.random([2, 16, 5, 4], seed: 9))
    }

    func testBatchNormWithResidualAndReLUMatchesReference() {
        for training in [true, false] {
            for relu in [true, false] {
                let blocked = BlockedBatchNorm(32, relu: relu, communicator: nil, pool: TensorPool())
                let reference = ReferenceNormActivation(BatchNorm(32, communicator: nil), relu: relu)
                for (p, q) in zip(blocked.parameters, reference.parameters) {
                    for i in 0..<p.parameter.value.count { let v = Float(i % 7) * 0.3 - 0.5; p.parameter.value[i] = v; q.parameter.value[i] = v }
                }
                let residual = GradientCheck.random([3, 32, 5, 6], seed: 12)
                let a = ResidualView(blocked, residual: BlockedLayout.toBlocked(residual), blocked: true)
                let b = ResidualView(reference, residual: residual, blocked: false)
                _ = LayerComparison.assertSame(a, b, input: GradientCheck.random([3, 32, 5, 6], seed: 13), pass: Pass(training: training))
                XCTAssertLessThanOrEqual(LayerComparison.relativeError(a.residualGradient, b.residualGradient), 1e-5)
            }
        }
        let blocked = BlockedBatchNorm(16, relu: false, communicator: nil, pool: TensorPool())
        let reference = BatchNorm(16, communicator: nil)
        _ = blocked.forward(BlockedLayout.toBlocked(GradientCheck.random([4, 16, 3, 3], seed: 1)), Pass(training: true))
        _ = reference.forward(GradientCheck.random([4, 16, 3, 3], seed: 1), Pass(training: true))
        XCTAssertLessThanOrEqual(LayerComparison.relativeError(blocked.runningVariance, reference.runningVariance), 1e-5, "running statistics")
        XCTAssertLessThanOrEqual(LayerComparison.relativeError(blocked.runningMean, reference.runningMean), 1e-5, "running statistics")
    }

    func testBatchNormGradientsByFiniteDifferences() {
        // Without the ReLU, whose kink finite differences cannot cross (its masking is checked against the reference).
        let norm = BlockedBatchNorm(16, relu: false, communicator: nil, pool: TensorPool())
        for i in 0..<16 { norm.gamma.value[i] = 0.5 + Float(i) * 0.1; norm.beta.value[i] = 0.2 * Float(i % 3) - 0.1 }
        GradientCheck.check(BlockedView(norm), input: GradientCheck.random([3, 16, 3, 2], seed: 14), step: 1e-3)
    }

    func testMaxPoolingMatchesReference() {
        let a = BlockedView(DNNLPool2d(.max, kernel: 3, stride: 2, padding: 1, pool: TensorPool()))
        _ = LayerComparison.assertSame(a, MaxPool2d(kernel: 3, stride: 2, padding: 1), input: GradientCheck.random([2, 16, 9, 8], seed: 15))
        // Distinct values 0.01 apart: no window's maximum changes under a finite-difference step.
        var rng = RandomGenerator(seed: 16)
        let input = Tensor(shape: [2, 16, 5, 4], values: rng.permutation(640).map { Float($0) * 0.01 })
        GradientCheck.check(a, input: input, step: 1e-3)
        GradientCheck.check(MaxPool2d(kernel: 3, stride: 2, padding: 1), input: input, step: 1e-3)
    }

    func testGlobalAveragePoolingMatchesReference() {
        let a = BlockedView(DNNLPool2d.globalAverage(pool: TensorPool()))
        _ = LayerComparison.assertSame(a, GlobalAveragePool(), input: GradientCheck.random([3, 32, 7, 5], seed: 17))
        GradientCheck.check(a, input: GradientCheck.random([2, 16, 3, 2], seed: 18))
        GradientCheck.check(GlobalAveragePool(), input: GradientCheck.random([2, 3, 3, 2], seed: 18))
    }

    /// A ResNet-18 forward and backward, oneDNN against the im2col/plain layers, from the same weights.
    /// (The oneDNN stem skips backward-data: nothing consumes dL/d(image).) BatchNorm over 4 samples at 1×1
    /// in the last stage amplifies float32 rounding, hence 1e-3 relative.
    func testResNet18BackendsAgree() {
        for (stem, size) in [(ResNet.Stem.small, 8), (.imagenet, 32)] {
            var rngA = RandomGenerator(seed: 21), rngB = RandomGenerator(seed: 21)
            let a = ResNet.resnet18.trunk(stem: stem, backend: .oneDNN, rng: &rngA, communicator: nil)
            let b = ResNet.resnet18.trunk(stem: stem, backend: .reference, rng: &rngB, communicator: nil)
            XCTAssertEqual(a.parameters.map(\.name), b.parameters.map(\.name))
            XCTAssertEqual(a.parameters.count, 60)
            let errors = LayerComparison.assertSame(a, b, input: GradientCheck.random([4, 3, size, size], seed: 22),
                                                  tolerance: 1e-3, comparesInputGradient: false)
            XCTAssertLessThanOrEqual(errors.output, 1e-3, "\(stem) output")
        }
    }
}

/// A NormActivation with a fixed residual, as a one-input layer; a blocked one is fed `element` tensors
/// (the residual must be of that element already) and seen in fp32.
final class ResidualView: Layer {
    let norm: any NormActivation
    let residual: Tensor
    let blocked: Bool
    let element: TensorElement

    init(_ norm: any NormActivation, residual: Tensor, blocked: Bool, element: TensorElement = .float32) {
        self.norm = norm
        self.residual = residual
        self.blocked = blocked
        self.element = element
    }

    func forward(_ x: Tensor, _ pass: Pass) -> Tensor {
        let y = norm.forward(blocked ? BlockedLayout.toBlocked(x, element: element) : x, residual: residual, pass)
        return blocked ? BlockedLayout.toPlain(y) : y
    }

    func backward(_ dy: Tensor) -> Tensor {
        let dx = norm.backward(blocked ? BlockedLayout.toBlocked(dy, element: element) : dy)
        return blocked ? BlockedLayout.toPlain(dx) : dx
    }

    var residualGradient: Tensor {
        let g = norm.residualGradient!
        return blocked ? BlockedLayout.toPlain(g) : g
    }

    var parameters: [(name: String, parameter: Parameter)] { norm.parameters }
}
