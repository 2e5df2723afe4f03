import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// Failures on real ranks end the job fast and say where: a killed rank, a rank that stops making progress,
/// ranks that run different builds. The last good state survives.
final class FailureTests: XCTestCase {
    var work: String!

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "l2c-failure-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// A run that would go on for hours, writing a state every 50 steps.
    private var endless: [String] {
        ["train", "--data", TestData.mnist, "--model", "lenet", "--steps", "1000000", "--checkpoint-every", "50", "--no-eval", "--out", work + "/run"]
    }

    private func waitForAState() {
        XCTAssertTrue(RunningJob.poll(timeout: 120) { !StateFolder(out: self.work + "/run").states().isEmpty }, "no state written")
    }

    /// Starts the endless run on 2 ranks, sends `signal` to rank 1 once a state exists, and returns the run
    /// and the seconds from the signal to the end of the job.
    private func signalRankOne(_ signal: Int32, extra: [String] = []) throws -> (run: Launch, seconds: Double) {
        let job = try Launcher.start(ranks: 2, endless + extra)
        let ranks = job.ranks(2)
        XCTAssertEqual(ranks.count, 2)
        waitForAState()
        let sent = Date()
        kill(ranks[1], signal)
        let run = job.wait(timeout: 90)
        return (run, Date().timeIntervalSince(sent))
    }

    func testAKilledRankEndsTheJobWithinFiveSecondsAndTheLastStateIsIntact() throws {
        let (run, seconds) = try signalRankOne(SIGKILL)
        XCTAssertLessThan(seconds, 5, "the job must end within 5 s of a rank's death")
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("process rank 1") && run.stderr.contains("on node"), "names the rank and host: \(run.stderr)")
        let newest = try XCTUnwrap(StateFolder(out: work + "/run").states().first)
        XCTAssertNoThrow(try TrainingState.load(newest.path), "the last state must load and verify")
    }

    func testARankThatStopsMakingProgressIsAbortedByTheWatchdog() throws {
        let (run, seconds) = try signalRankOne(SIGSTOP, extra: ["--stall-timeout", "10"])
        XCTAssertLessThan(seconds, 25, "--stall-timeout 10 must end the job within 25 s")
        XCTAssertNotEqual(run.status, 0)
        let report = run.stderr.split(separator: "\n").first { $0.contains("no step completed for") }
        XCTAssertNotNil(report, run.stderr)
        XCTAssertTrue(report?.contains("train step") ?? false, "names the step: \(run.stderr)")
        XCTAssertTrue(report?.contains("waiting in MPI_") ?? false, "names the collective: \(run.stderr)")
    }

    func testRanksRunningDifferentBuildsFailAtOnce() throws {
        let other = work + "/l2c-other-build"
        var binary = try Data(contentsOf: URL(fileURLWithPath: Launcher.l2c))
        binary.append(contentsOf: Array("another build".utf8))
        try binary.write(to: URL(fileURLWithPath: other))
        chmod(other, 0o755)
        let job = ["train", "--data", TestData.mnist, "--model", "lenet", "--steps", "5", "--no-eval", "--threads", "1"]
        let run = try Launcher.run("/usr/bin/mpirun", ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "1", Launcher.l2c] + job
                                   + [":", "-np", "1", other] + job, timeout: 60)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertLessThan(run.seconds, 30)
        XCTAssertTrue(run.stderr.contains("l2c: error: ranks disagree about the build of l2c"), run.stderr)
    }
}
