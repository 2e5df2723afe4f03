import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// How long a network trains when the user does not say: epochs, and at least a step budget.
final class TrainingLengthTests: XCTestCase {
    private func optimization(steps: Int? = nil, epochs: Int? = nil) -> Optimization {
        var o = Optimization()
        (o.steps, o.epochs, o.defaultEpochs, o.stepBudget) = (steps, epochs, 10, 500)
        return o
    }

    func testASmallSetGetsTheStepBudget() throws {
        XCTAssertEqual(try optimization().plannedSteps(batchesPerEpoch: 2), 500, "20 classes × 10 images: 2 batches an epoch")
        XCTAssertTrue(optimization().lengthReason(batchesPerEpoch: 2).contains("a budget of 500 steps, 250 epochs of 2 batches"))
    }

    func testALargeSetGetsItsDefaultEpochs() throws {
        XCTAssertEqual(try optimization().plannedSteps(batchesPerEpoch: 300), 3_000)
    }

    func testExplicitStepsOrEpochsWin() throws {
        XCTAssertEqual(try optimization(steps: 7).plannedSteps(batchesPerEpoch: 2), 7)
        XCTAssertEqual(try optimization(epochs: 3).plannedSteps(batchesPerEpoch: 2), 6)
        XCTAssertEqual(optimization(epochs: 3).lengthReason(batchesPerEpoch: 2), "")
    }
}
