import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// Long runs on real ranks: a run stopped by a signal saves its state and exits 3; resumed, it ends with the
/// same parameters as a run that was never stopped, bit for bit on the same ranks and threads, and to float
/// rounding on another rank count.
final class LongRunTests: XCTestCase {
    var work: String!

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "l2c-longrun-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// The acceptance run of `l2c train`, long enough to be signalled mid-run.
    private func train(steps: Int = 400, _ extra: [String] = []) -> [String] {
        ["train", "--data", TestData.mnist, "--model", "lenet", "--loss", "kcl", "--clusters", "10", "--batch-size", "64",
         "--steps", "\(steps)", "--optimizer", "sgd", "--lr", "0.01", "--seed", "2", "--checkpoint-every", "10", "--no-eval"] + extra
    }

    private func states(_ out: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints")) ?? []).filter { $0.hasPrefix("state-") }.sorted()
    }

    /// Starts `arguments`, sends SIGUSR1 to mpirun once a state of `phase` exists, and expects exit 3 with
    /// the one-line report.
    private func stopWithSIGUSR1(_ arguments: [String], out: String, ranks: Int = 2, phase: String) throws {
        let job = try Launcher.start(ranks: ranks, arguments + ["--out", out])
        XCTAssertTrue(RunningJob.poll(timeout: 120) { self.states(out).contains { $0.contains("-\(phase)-") } }, "no \(phase) state appeared")
        kill(job.pid, SIGUSR1)
        let stopped = job.wait(timeout: 120)
        XCTAssertEqual(stopped.status, 3, stopped.stderr)
        let report = stopped.stderr.split(separator: "\n").filter { $0.contains("stopped at step") }
        XCTAssertEqual(report.count, 1, stopped.stderr)
        XCTAssertTrue(report.first?.contains("by SIGUSR1, state saved to \(out)/checkpoints/state-") ?? false, stopped.stderr)
        XCTAssertTrue(report.first?.contains("resume with --resume") ?? false)
    }

    private func assertSameFile(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (x, y) = (try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        XCTAssertTrue(x == y, "\(a) and \(b) differ", file: file, line: line)
    }

    func testAStoppedTrainingRunResumesToTheSameParametersBitForBit() throws {
        let whole = try Launcher.mpirun(ranks: 2, train() + ["--out", work + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        try stopWithSIGUSR1(train(), out: work + "/stopped", phase: "train")
        let resumed = try Launcher.mpirun(ranks: 2, train() + ["--out", work + "/stopped", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from \(work!)/stopped/checkpoints/state-"), resumed.stderr)
        try assertSameFile(work + "/whole/model.safetensors", work + "/stopped/model.safetensors")
        XCTAssertLessThanOrEqual(states(work + "/stopped").count, 2, "--keep-checkpoints defaults to 2")
        // The state names optimizer tensors as PyTorch does.
        let state = try TrainingState.load(work + "/stopped/checkpoints/" + states(work + "/stopped").last!)
        XCTAssertEqual(state.step, 400)
        XCTAssertNotNil(state.contents.tensors["optimizer.conv1.weight.momentum_buffer"], "\(state.contents.tensors.keys.sorted())")
    }

    /// A transfer run on MNIST-5k (clustering `epochs` after a warm-up of `warmUpSteps`), whole and stopped by SIGUSR1 in
    /// `phase` then resumed: both must end with the same model file. Returns (whole, resumed).
    private func stopAndResumeTransfer(epochs: Int, warmUpSteps: Int, stoppingIn phase: String) throws -> (whole: Launch, resumed: Launch) {
        let transfer = ["transfer", "--data", TestData.mnist, "--aux-classes", "0,1,2,3,4", "--target-classes", "5,6,7,8,9",
                        "--epochs", "\(epochs)", "--spn-epochs", "1", "--warm-up-steps", "\(warmUpSteps)", "--seed", "2", "--checkpoint-every", "5"]
        let whole = try Launcher.mpirun(ranks: 2, transfer + ["--out", work + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        try stopWithSIGUSR1(transfer, out: work + "/stopped", phase: phase)
        let resumed = try Launcher.mpirun(ranks: 2, transfer + ["--out", work + "/stopped", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameFile(work + "/whole/model.safetensors", work + "/stopped/model.safetensors")
        return (whole, resumed)
    }

    func testAStoppedTransferRunResumesInItsClusteringPhase() throws {
        let (whole, resumed) = try stopAndResumeTransfer(epochs: 6, warmUpSteps: 20, stoppingIn: "cluster")
        XCTAssertTrue(resumed.stderr.contains("spn: phase spn finished before the run stopped"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("warm-up: phase cluster.warm-up finished before the run stopped"), resumed.stderr)
        XCTAssertEqual(whole.summary?["acc"] as? Double, resumed.summary?["acc"] as? Double)
    }

    /// Stopped in the clustering network's contrastive warm-up, a transfer run continues it where it stopped and ends
    /// with the model an uninterrupted run ends with, bit for bit.
    func testAStoppedTransferRunResumesInItsWarmUp() throws {
        let (whole, resumed) = try stopAndResumeTransfer(epochs: 2, warmUpSteps: 150, stoppingIn: "cluster.warm-up")
        XCTAssertTrue(resumed.stderr.contains("warm-up step 150/150"), "the resumed run finishes the warm-up: \(resumed.stderr)")
        XCTAssertEqual(whole.summary?["kmeans_warm_up_features_acc"] as? Double, resumed.summary?["kmeans_warm_up_features_acc"] as? Double)
    }

    func testAStoppedACOLRunResumesMidEpochBitForBit() throws {
        let acol = ["acol", "--data", TestData.mnist, "--parents", "2", "--duplicates", "5", "--steps", "300", "--batch-size", "64",
                    "--seed", "2", "--revive-dead", "--checkpoint-every", "10"]
        let whole = try Launcher.mpirun(ranks: 2, acol + ["--out", work + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        try stopWithSIGUSR1(acol, out: work + "/stopped", phase: "acol")
        let resumed = try Launcher.mpirun(ranks: 2, acol + ["--out", work + "/stopped", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameFile(work + "/whole/model.safetensors", work + "/stopped/model.safetensors")
        XCTAssertEqual(whole.summary?["revived_nodes"] as? Int, resumed.summary?["revived_nodes"] as? Int)
    }

    /// Stopped on 2 ranks, finished on 1: the same global batches, so the same model to float rounding (SGD).
    /// Compared over all parameters at once, as the rank-equivalence tests do: on AMD EPYC Zen 4 the BatchNorm shifts
    /// (magnitude 0.004) differ by up to 4e-4 of their own size after 60 steps, while the whole model agrees within
    /// 1e-4 of its largest parameter. The running statistics average the batch means of features that already
    /// differ so: 1.5e-4 of their largest value there, bounded by 1e-3.
    func testAResumeOnAnotherRankCountAgreesToRounding() throws {
        let whole = try Launcher.mpirun(ranks: 2, train(steps: 60) + ["--out", work + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let first = try Launcher.mpirun(ranks: 2, train(steps: 30) + ["--out", work + "/split"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let rest = try Launcher.mpirun(ranks: 1, train(steps: 60) + ["--out", work + "/split", "--resume"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        let (a, b) = (try Checkpoint.load(work + "/whole/model.safetensors"), try Checkpoint.load(work + "/split/model.safetensors"))
        XCTAssertEqual(Set(a.tensors.keys), Set(b.tensors.keys))
        XCTAssertLessThanOrEqual(a.wholeDifference(to: b), 1e-4, "\(a.relativeDifferences(to: b).prefix(3))")
        XCTAssertLessThanOrEqual(a.wholeDifference(to: b, runningStatistics: true), 1e-3, "\(a.relativeDifferences(to: b).prefix(3))")
    }

    /// Extending a finished run with more steps equals running the longer run at once.
    func testAFinishedRunExtendedWithMoreStepsEqualsTheLongerRun() throws {
        let whole = try Launcher.mpirun(ranks: 2, train(steps: 50) + ["--out", work + "/whole"])
        let short = try Launcher.mpirun(ranks: 2, train(steps: 25) + ["--out", work + "/extended"])
        let extended = try Launcher.mpirun(ranks: 2, train(steps: 50) + ["--out", work + "/extended", "--resume"])
        for run in [whole, short, extended] { XCTAssertEqual(run.status, 0, run.stderr) }
        try assertSameFile(work + "/whole/model.safetensors", work + "/extended/model.safetensors")
    }

    func testACorruptNewestStateIsReportedAndTheOneBeforeIsUsed() throws {
        let whole = try Launcher.mpirun(ranks: 2, train(steps: 40) + ["--out", work + "/whole"])
        let short = try Launcher.mpirun(ranks: 2, train(steps: 30) + ["--out", work + "/damaged"])
        for run in [whole, short] { XCTAssertEqual(run.status, 0, run.stderr) }
        let newest = work + "/damaged/checkpoints/" + states(work + "/damaged").last!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        bytes[bytes.count - 100] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: newest))
        let resumed = try Launcher.mpirun(ranks: 2, train(steps: 40) + ["--out", work + "/damaged", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("\(newest): sha256"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("step00000020"), "resumes from the state before: \(resumed.stderr)")
        try assertSameFile(work + "/whole/model.safetensors", work + "/damaged/model.safetensors")
    }

    /// A run started without --resume into a folder that holds an earlier run's states keeps them.
    func testAFreshRunIntoAnEarlierRunsFolderKeepsItsStates() throws {
        let earlier = try Launcher.mpirun(ranks: 2, train(steps: 30) + ["--out", work + "/run"])
        XCTAssertEqual(earlier.status, 0, earlier.stderr)
        let kept = states(work + "/run")
        XCTAssertEqual(kept.count, 2)
        let fresh = try Launcher.mpirun(ranks: 2, train(steps: 30) + ["--out", work + "/run"])
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertTrue(fresh.stderr.contains("holds 2 state(s) of an earlier run; they are kept"), fresh.stderr)
        XCTAssertEqual(states(work + "/run").count, 4)
        XCTAssertTrue(Set(kept).isSubset(of: Set(states(work + "/run"))))
    }

    func testOptionsThatFixTheTrajectoryCannotChangeOnResume() throws {
        let first = try Launcher.mpirun(ranks: 2, train(steps: 20) + ["--out", work + "/run"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let changed = try Launcher.mpirun(ranks: 2, ["train", "--data", TestData.mnist, "--model", "lenet", "--loss", "mcl", "--clusters", "10",
                                                     "--batch-size", "64", "--steps", "40", "--optimizer", "sgd", "--lr", "0.01", "--seed", "2",
                                                     "--out", work + "/run", "--resume", "--no-eval"], timeout: 60)
        XCTAssertNotEqual(changed.status, 0)
        XCTAssertTrue(changed.stderr.contains("l2c: error: --loss: the state"), changed.stderr)
        XCTAssertTrue(changed.stderr.contains("was written with --loss kcl, this run has mcl"), changed.stderr)
        // Threads and checkpoint cadence may change.
        let allowed = try Launcher.mpirun(ranks: 2, train(steps: 30, ["--checkpoint-minutes", "5", "--keep-checkpoints", "3"]) + ["--out", work + "/run", "--resume"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
    }
}
