import L2CComm
import L2CTensor
import XCTest

/// Every layer's backward agrees with finite differences of its forward.
final class LayerGradientTests: XCTestCase {
    func testLinear() {
        var rng = RandomGenerator(seed: 1)
        GradientCheck.check(Linear(6, 4, rng: &rng), input: GradientCheck.random([5, 6], seed: 2))
    }

    func testLinearWithoutBias() {
        var rng = RandomGenerator(seed: 1)
        GradientCheck.check(Linear(6, 4, bias: false, rng: &rng), input: GradientCheck.random([3, 6], seed: 2))
    }

    func testConv2d() {
        var rng = RandomGenerator(seed: 3)
        GradientCheck.check(Conv2d(2, 3, kernel: 3, rng: &rng), input: GradientCheck.random([2, 2, 6, 5], seed: 4))
    }

    func testConv2dWithStrideAndPadding() {
        var rng = RandomGenerator(seed: 5)
        GradientCheck.check(Conv2d(2, 2, kernel: 3, stride: 2, padding: 1, rng: &rng), input: GradientCheck.random([2, 2, 7, 6], seed: 6))
    }

    func testReLU() {
        GradientCheck.check(ReLU(), input: GradientCheck.random([4, 7], seed: 8), step: 1e-3)
    }

    func testMaxPool2d() {
        GradientCheck.check(MaxPool2d(kernel: 2), input: GradientCheck.random([2, 3, 6, 4], seed: 9), step: 1e-3)
    }

    func testFlatten() {
        GradientCheck.check(Flatten(), input: GradientCheck.random([3, 2, 2, 2], seed: 10))
    }

    func testDropoutInTraining() {
        GradientCheck.check(Dropout(0.4, seed: 11), input: GradientCheck.random([4, 9], seed: 12), pass: Pass(training: true, step: 3))
    }

    func testBatchNorm1dTraining() {
        let bn = BatchNorm(5, communicator: SingleProcessCommunicator())
        GradientCheck.check(bn, input: GradientCheck.random([6, 5], seed: 13), step: 1e-2, tolerance: 3e-2)
    }

    func testBatchNorm2dTraining() {
        let bn = BatchNorm(3, communicator: nil)
        for i in 0..<3 { bn.gamma.value[i] = 0.5 + Float(i); bn.beta.value[i] = Float(i) - 1 }
        GradientCheck.check(bn, input: GradientCheck.random([2, 3, 3, 4], seed: 14), step: 1e-2, tolerance: 3e-2)
    }

    func testBatchNormEvaluationUsesRunningStatistics() {
        let bn = BatchNorm(2, communicator: nil)
        for i in 0..<2 { bn.runningMean[i] = 1; bn.runningVariance[i] = 4 }
        let y = bn.forward(Tensor(shape: [1, 2], values: [3, -1]), .evaluation)
        XCTAssertEqual(y[0], 2 / (4 + 1e-5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(y[1], -2 / (4 + 1e-5).squareRoot(), accuracy: 1e-6)
        GradientCheck.check(bn, input: GradientCheck.random([3, 2], seed: 15), pass: .evaluation)
    }

    func testSoftmaxBackwardIsTheAdjointOfForward() {
        let logits = GradientCheck.random([3, 5], seed: 16)
        let g = GradientCheck.random([3, 5], seed: 17)
        let analytic = Softmax.backward(probs: Softmax.forward(logits), gradProbs: g)
        let h: Float = 1e-2
        for i in 0..<logits.count {
            let saved = logits[i]
            logits[i] = saved + h; let plus = Softmax.forward(logits)
            logits[i] = saved - h; let minus = Softmax.forward(logits)
            logits[i] = saved
            var numeric: Float = 0
            for j in 0..<g.count { numeric += g[j] * (plus[j] - minus[j]) / (2 * h) }
            XCTAssertEqual(numeric, analytic[i], accuracy: 2e-3)
        }
    }
}

/// Domain-adversarial pieces: the gradient-reversal layer and the domain head behind it.
final class DomainAdversarialGradientTests: XCTestCase {
    /// With λ = −1 the layer is the identity both ways, so finite differences see its backward exactly.
    func testGradientReversalIsTheIdentityForwardAndMinusLambdaBackward() {
        GradientCheck.check(GradientReversal(lambda: -1), input: GradientCheck.random([3, 5], seed: 21))
        let reversal = GradientReversal(lambda: 0.7)
        let x = GradientCheck.random([2, 4], seed: 22), g = GradientCheck.random([2, 4], seed: 23)
        XCTAssertEqual(reversal.forward(x, Pass(training: true)).array, x.array)
        XCTAssertEqual(reversal.backward(g).array, g.array.map { -0.7 * $0 })
    }

    func testTheDomainHead() {
        var rng = RandomGenerator(seed: 24)
        let head = Sequential([("fc1", Linear(6, 5, rng: &rng)), ("relu", ReLU()), ("fc2", Linear(5, 2, rng: &rng))])
        GradientCheck.check(head, input: GradientCheck.random([4, 6], seed: 25), step: 1e-3)
    }
}
