import Foundation
import L2CTensor
import XCTest

final class TrainingPiecesTests: XCTestCase {
    func testSeededGeneratorsRepeat() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let sa = (0..<5).map { _ in a.next() }
        XCTAssertEqual(sa, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(sa, (0..<5).map { _ in c.next() })
    }

    func testModelsInitialiseIdenticallyFromTheSameSeed() {
        let a = Architecture.mlp.build(channels: 1, height: 4, width: 4, outputs: 3, seed: 9, communicator: nil)
        let b = Architecture.mlp.build(channels: 1, height: 4, width: 4, outputs: 3, seed: 9, communicator: nil)
        for (x, y) in zip(a.parameters, b.parameters) { XCTAssertEqual(x.parameter.value.array, y.parameter.value.array) }
    }

    func testDropoutMaskDependsOnTheGlobalSampleNotTheRank() {
        let x = Tensor(shape: [4, 16]); x.fill(1)
        let whole = Dropout(0.5, seed: 3).forward(x, Pass(training: true, sampleOffset: 0, step: 5)).array
        let secondHalf = Tensor(shape: [2, 16]); secondHalf.fill(1)
        let shard = Dropout(0.5, seed: 3).forward(secondHalf, Pass(training: true, sampleOffset: 2, step: 5)).array
        XCTAssertEqual(Array(whole[32...]), shard)
    }

    func testSGDWithMomentumFollowsTorchFormula() {
        let p = Parameter(Tensor(shape: [1], values: [1]), decays: true)
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        p.gradient[0] = 2
        sgd.step([("w", p)])          // g = 2 + 0.5·1 = 2.5, v = 2.5, w = 1 − 0.25
        XCTAssertEqual(p.value[0], 0.75, accuracy: 1e-6)
        sgd.step([("w", p)])          // g = 2 + 0.375, v = 0.9·2.5 + 2.375 = 4.625, w = 0.75 − 0.4625
        XCTAssertEqual(p.value[0], 0.2875, accuracy: 1e-6)
    }

    func testAdamFirstStepMovesByTheLearningRate() {
        let p = Parameter(Tensor(shape: [2], values: [1, -1]), decays: false)
        p.gradient[0] = 3; p.gradient[1] = -0.01
        Adam(learningRate: 0.01).step([("w", p)])
        XCTAssertEqual(p.value[0], 0.99, accuracy: 1e-5)
        XCTAssertEqual(p.value[1], -0.99, accuracy: 1e-5)
    }

    func testStepScheduleDecays() {
        let s = LearningRateSchedule(base: 1, decay: .step(period: 10, gamma: 0.5))
        XCTAssertEqual(s.learningRate(atStep: 9), 1)
        XCTAssertEqual(s.learningRate(atStep: 10), 0.5)
        XCTAssertEqual(s.learningRate(atStep: 25), 0.25)
    }

    func testWarmupRisesLinearlyThenTheCosineFallsToZero() {
        let s = LearningRateSchedule(base: 0.8, warmupSteps: 4, decay: .cosine(totalSteps: 104))
        XCTAssertEqual(s.learningRate(atStep: 0), 0.2, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 3), 0.8, accuracy: 1e-7, "the last warm-up step reaches η₀")
        XCTAssertEqual(s.learningRate(atStep: 4), 0.8, accuracy: 1e-7, "the cosine starts at η₀")
        XCTAssertEqual(s.learningRate(atStep: 54), 0.4, accuracy: 1e-6, "half way: η₀/2")
        XCTAssertEqual(s.learningRate(atStep: 103), 0.8 * Float(0.5 * (1 + cos(Double.pi * 99 / 100))), accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 104), 0, accuracy: 1e-7)
    }

    /// DANN anneals η₀/(1 + 10p)^0.75 over progress p = step/(steps − 1): η₀ at the first step, η₀/11^0.75 at the last.
    func testDANNScheduleAnnealsOverProgress() {
        let s = LearningRateSchedule(base: 0.01, decay: .dann(totalSteps: 101))
        XCTAssertEqual(s.learningRate(atStep: 0), 0.01, accuracy: 1e-9)
        XCTAssertEqual(s.learningRate(atStep: 50), 0.01 / powf(6, 0.75), accuracy: 1e-8, "p = 0.5")
        XCTAssertEqual(s.learningRate(atStep: 100), 0.01 / powf(11, 0.75), accuracy: 1e-8, "p = 1")
    }

    /// LARS: each layer steps by η·τ·‖w‖/(‖∇‖ + λ‖w‖) times its gradient; exempt parameters by η.
    func testLARSScalesEachLayersStepByItsTrustRatio() {
        let weight = Parameter(Tensor(shape: [2], values: [3, 4]), decays: true)        // ‖w‖ = 5
        weight.gradient[0] = 0; weight.gradient[1] = 0.5                                  // ‖∇‖ = 0.5
        let bias = Parameter(Tensor(shape: [1], values: [1]), decays: false)
        bias.gradient[0] = 2
        let lars = LARS(learningRate: 1, momentum: 0.9, weightDecay: 0, trust: 0.01)
        XCTAssertEqual(lars.localLearningRate(weight), 0.01 * 5 / 0.5, accuracy: 1e-7)
        lars.step([("w", weight), ("b", bias)])
        XCTAssertEqual(weight.value.array, [3, 4 - 0.1 * 0.5])
        XCTAssertEqual(bias.value[0], 1 - 2, "exempt: a plain step with η")
        // The second step adds momentum: v = 0.9·v + rate·∇.
        let rate = lars.localLearningRate(weight)
        lars.step([("w", weight), ("b", bias)])
        XCTAssertEqual(weight.value[1], 3.95 - (0.9 * 0.05 + rate * 0.5), accuracy: 1e-6)
        XCTAssertEqual(lars.namedState([("w", weight)]).map(\.name), ["optimizer.w.momentum_buffer"])
    }
}

final class VectorMathTests: XCTestCase {
    func testVectorLogMatchesTheLibraryAcrossMagnitudes() {
        var worst: Float = 0
        var x: Float = 1e-30
        while x < 1e30 {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = x * (1 + Float(i) * 0.37) }
            let got = vectorLog(v)
            for i in 0..<16 {
                let expected = logf(v[i])
                worst = max(worst, abs(got[i] - expected) / max(abs(expected), 1))
            }
            x *= 3.7
        }
        XCTAssertLessThan(worst, 3e-7)
    }
}
