import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// Which initialisation of a clustering network `--restarts` keeps, and how long its candidates are tried.
final class ClusteringRestartsTests: XCTestCase {
    func testTheFirstCandidateStartsWhereARunWithoutRestartsStarts() {
        // A run without restarts initialises its clustering network from the run's seed + 1.
        XCTAssertEqual(ClusteringRestarts.initialisationSeed(runSeed: 7, candidate: 0), 8)
        let seeds = (0..<5).map { ClusteringRestarts.initialisationSeed(runSeed: 7, candidate: $0) }
        XCTAssertEqual(Set(seeds).count, 5, "every candidate starts elsewhere")
    }

    func testTheCandidateWithTheLowestTrialLossIsKeptAndTiesGoToTheFirst() {
        XCTAssertEqual(ClusteringRestarts.best([0.403, 0.394, 0.402]), 1)
        XCTAssertEqual(ClusteringRestarts.best([0.39, 0.40, 0.39]), 0)
        XCTAssertEqual(ClusteringRestarts.best([0.5]), 0)
    }

    func testCandidatesAreTriedForAFifthOfTheRunAndJudgedOnItsSecondHalf() {
        XCTAssertEqual(ClusteringRestarts.trialSteps(totalSteps: 4_500), 900)
        XCTAssertFalse(ClusteringRestarts.countsTowardsCriterion(step: 449, trialSteps: 900))
        XCTAssertTrue(ClusteringRestarts.countsTowardsCriterion(step: 450, trialSteps: 900))
    }

    func testShortRunsAndASingleCandidateTrainOneInitialisation() {
        XCTAssertFalse(ClusteringRestarts(count: 3).tries(totalSteps: 375), "MNIST-5k's 375 steps: early losses are noise")
        XCTAssertTrue(ClusteringRestarts(count: 3).tries(totalSteps: ClusteringRestarts.minimumSteps))
        XCTAssertFalse(ClusteringRestarts(count: 1).tries(totalSteps: 100_000))
    }
}
