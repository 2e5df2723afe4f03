import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// `--restarts` on real ranks: candidates tried on the same batches, the lowest trial loss kept and trained from
/// its start, and a run stopped during a trial resumes to the same network.
final class ClusteringRestartTests: XCTestCase {
    var work: String!

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "l2c-restarts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: work) }

    /// An oracle-supervised clustering run just long enough to try its candidates (2,000 steps, 400-step trials).
    private func cluster(_ extra: [String] = []) -> [String] {
        ["cluster", "--data", TestData.syntheticDigits, "--model", "mlp", "--classes", "5,6,7,8,9", "--oracle-similarity",
         "--clusters", "5", "--batch-size", "20", "--steps", "\(ClusteringRestarts.minimumSteps)", "--optimizer", "sgd", "--lr", "0.01",
         "--seed", "4", "--restarts", "3", "--log-every", "50"] + extra
    }

    /// Losses logged by one loop of metrics.jsonl, by step.
    private func losses(_ out: String, label: String) throws -> [Int: Double] {
        let lines = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        var result: [Int: Double] = [:]
        for line in lines {
            guard let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  record["phase"] as? String == label, let step = record["step"] as? Int, let loss = record["loss"] as? Double else { continue }
            result[step] = loss
        }
        return result
    }

    func testTheLowestTrialLossIsKeptAndTrainsFromItsStart() throws {
        let run = try Launcher.mpirun(ranks: 2, cluster(["--out", work + "/run"]))
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(run.summary, run.stdout)
        let trialLosses = try XCTUnwrap(summary["restart_trial_losses"] as? [Double])
        XCTAssertEqual(trialLosses.count, 3)
        let chosen = try XCTUnwrap(summary["restart_chosen"] as? Int)
        XCTAssertEqual(chosen, ClusteringRestarts.best(trialLosses) + 1)
        XCTAssertEqual(summary["steps"] as? Int, ClusteringRestarts.minimumSteps)
        // The kept candidate repeats its trial step for step: the same batches from the same start.
        let trial = try losses(work + "/run", label: "cluster.trial\(chosen - 1)")
        let whole = try losses(work + "/run", label: "cluster")
        XCTAssertEqual(trial.count, ClusteringRestarts.trialSteps(totalSteps: ClusteringRestarts.minimumSteps) / 50)
        for (step, loss) in trial { XCTAssertEqual(whole[step], loss, "step \(step)") }
        XCTAssertTrue(run.stderr.contains("keeping initialisation \(chosen) of 3"), run.stderr)
    }

    /// One rank: resuming is what is tested here (the test above has two).
    func testARunStoppedDuringATrialResumesToTheSameNetwork() throws {
        let whole = try Launcher.mpirun(ranks: 1, cluster(["--out", work + "/whole"]))
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let out = work + "/stopped"
        let job = try Launcher.start(ranks: 1, cluster(["--checkpoint-every", "100", "--out", out]))
        let states = { ((try? FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints")) ?? []).filter { $0.contains("-cluster.trial1-") } }
        XCTAssertTrue(RunningJob.poll(timeout: 120) { !states().isEmpty }, "no state of the second trial appeared")
        kill(job.pid, SIGUSR1)
        XCTAssertEqual(job.wait(timeout: 120).status, 3)
        let resumed = try Launcher.mpirun(ranks: 1, cluster(["--checkpoint-every", "100", "--out", out, "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.summary?["restart_trial_losses"] as? [Double], whole.summary?["restart_trial_losses"] as? [Double])
        let (a, b) = (try Data(contentsOf: URL(fileURLWithPath: work + "/whole/model.safetensors")),
                      try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")))
        XCTAssertTrue(a == b, "the resumed run's network differs from the uninterrupted one's")
    }
}
