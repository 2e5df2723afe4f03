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
        let s = StepSchedule(base: 1, period: 10, gamma: 0.5)
        XCTAssertEqual(s.learningRate(atStep: 9), 1)
        XCTAssertEqual(s.learningRate(atStep: 10), 0.5)
        XCTAssertEqual(s.learningRate(atStep: 25), 0.25)
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
