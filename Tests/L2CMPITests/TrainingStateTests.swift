import Foundation
import L2CBench
import L2CComm
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor
import XCTest

/// The training state in process: optimizer tensors by name and a bit-exact continuation, the file's digest,
/// the folder of states, and the options a resume checks.
final class TrainingStateTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "l2c-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func parameters() -> [(name: String, parameter: Parameter)] {
        [("fc.weight", Parameter(Tensor(shape: [3, 2], values: [0.5, -1, 2, 0.25, -0.75, 1.5]), decays: true)),
         ("fc.bias", Parameter(Tensor(shape: [3], values: [0.1, 0, -0.2]), decays: false))]
    }

    /// Deterministic gradients for step `t`.
    private func step(_ optimizer: any Optimizer, _ parameters: [(name: String, parameter: Parameter)], _ t: Int) {
        for (k, entry) in parameters.enumerated() {
            let g = entry.parameter.gradient
            for i in 0..<g.count { g[i] = sinf(Float(t * 7 + i * 3 + k)) }
        }
        optimizer.step(parameters)
    }

    private func assertOptimizerContinuesBitForBit(_ make: () -> any Optimizer, names: [String]) throws {
        let whole = parameters(), stopped = parameters(), resumed = parameters()
        let a = make(), b = make(), c = make()
        for t in 0..<6 { step(a, whole, t) }
        for t in 0..<3 { step(b, stopped, t) }
        // What a state holds: parameter values, optimizer tensors by name, the step count.
        let saved = Dictionary(uniqueKeysWithValues: b.namedState(stopped).map { ($0.name, $0.tensor.array) })
        XCTAssertEqual(saved.keys.sorted(), names.sorted())
        for (r, s) in zip(resumed, stopped) { r.parameter.value.data.update(from: s.parameter.value.data, count: s.parameter.value.count) }
        for (name, tensor) in c.namedState(resumed) { saved[name]!.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: tensor.count) } }
        c.stepCount = b.stepCount
        for t in 3..<6 { step(c, resumed, t) }
        for (x, y) in zip(whole, resumed) { XCTAssertEqual(x.parameter.value.array, y.parameter.value.array, x.name) }
    }

    func testAdamStateIsNamedAsInPyTorchAndContinuesBitForBit() throws {
        try assertOptimizerContinuesBitForBit({ Adam(learningRate: 0.01, weightDecay: 0.1) },
                                              names: ["optimizer.fc.weight.exp_avg", "optimizer.fc.weight.exp_avg_sq",
                                                      "optimizer.fc.bias.exp_avg", "optimizer.fc.bias.exp_avg_sq"])
    }

    func testSGDMomentumStateIsNamedAsInPyTorchAndContinuesBitForBit() throws {
        try assertOptimizerContinuesBitForBit({ SGD(learningRate: 0.05, momentum: 0.9, nesterov: true) },
                                              names: ["optimizer.fc.weight.momentum_buffer", "optimizer.fc.bias.momentum_buffer"])
    }

    func testACheckpointWhoseTensorBytesChangedFailsItsDigest() throws {
        let path = folder + "/model.safetensors"
        try Checkpoint.save(path, tensors: [("w", Tensor(shape: [4], values: [1, 2, 3, 4]))], metadata: ["format": "l2c-1"])
        XCTAssertEqual(try Checkpoint.load(path).tensors["w"]?.values, [1, 2, 3, 4])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.load(path)) { XCTAssertTrue("\($0)".hasPrefix("\(path): sha256 of the tensor data is"), "\($0)") }
        try bytes.prefix(bytes.count - 8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.load(path)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
    }

    func testTheStateFolderListsNewestFirstAndKeepsTheNewest() throws {
        let states = StateFolder(out: folder)
        try FileManager.default.createDirectory(atPath: states.path, withIntermediateDirectories: true)
        for (sequence, name) in [(1, "train-step00000010"), (12, "cluster-step00000005"), (3, "spn-step00000100")] {
            FileManager.default.createFile(atPath: states.path + String(format: "/state-%06d-", sequence) + name + ".safetensors", contents: Data())
        }
        FileManager.default.createFile(atPath: states.path + "/.state-000013-cluster-step00000010.safetensors.tmp-99999999", contents: Data())
        XCTAssertEqual(states.states().map(\.sequence), [12, 3, 1])
        XCTAssertEqual(StateFolder.named(folder).path, states.path)
        XCTAssertEqual(StateFolder.named(states.path).path, states.path)
    }

    func testAResumeRefusesAStateOfAnotherCommandOrOtherOptions() throws {
        let comm = SingleProcessCommunicator()
        var policy = RunPolicy()
        let states = StateFolder(out: folder)
        let metadata = ["format": TrainingState.format, "command": "train", "phase": "train", "step": "10", "optimizer.step": "10",
                        "options": "{\"optimization.seed\":\"1\"}", "phase_state": "{}", "completed": "{}", "ranks": "2"]
        try Checkpoint.save(states.path + "/state-000001-train-step00000010.safetensors", tensors: [], metadata: metadata)
        policy.resume = .newest
        let resumed = try RunSession(command: "train", configuration: "a", options: ["optimization.seed": "1"], out: folder, policy: policy, communicator: comm)
        XCTAssertEqual(resumed.resumed?.step, 10)
        XCTAssertThrowsError(try RunSession(command: "train", configuration: "a", options: ["optimization.seed": "2"], out: folder, policy: policy, communicator: comm)) {
            XCTAssertTrue("\($0)".hasPrefix("--seed: the state"), "\($0)")
            XCTAssertTrue("\($0)".contains("was written with --seed 1, this run has 2"), "\($0)")
        }
        XCTAssertThrowsError(try RunSession(command: "acol", configuration: "a", options: ["optimization.seed": "1"], out: folder, policy: policy, communicator: comm)) {
            XCTAssertTrue("\($0)".contains("is a state of `l2c train`, this is `l2c acol`"), "\($0)")
        }
        policy.resume = .path(folder + "/nowhere")
        XCTAssertThrowsError(try RunSession(command: "train", configuration: "a", options: [:], out: folder, policy: policy, communicator: comm)) {
            XCTAssertTrue("\($0)".contains("nowhere: no such state file or folder"), "\($0)")
        }
    }

    /// States of an earlier L2C recorded their options by option name; they are refused with the format named.
    func testAStateOfAnEarlierFormatIsRefusedByName() throws {
        let comm = SingleProcessCommunicator()
        var policy = RunPolicy()
        let path = StateFolder(out: folder).path + "/state-000001-train-step00000010.safetensors"
        try Checkpoint.save(path, tensors: [], metadata: ["format": "l2c-state-1", "command": "train", "phase": "train", "step": "10",
                                                          "optimizer.step": "10", "options": "{\"--seed\":\"1\"}", "phase_state": "{}",
                                                          "completed": "{}", "ranks": "2"])
        policy.resume = .path(path)
        XCTAssertThrowsError(try RunSession(command: "train", configuration: "a", options: [:], out: folder, policy: policy, communicator: comm)) {
            let line = "\($0)"
            XCTAssertTrue(line.hasPrefix(path) && line.contains("l2c-state-1 is a training state of an earlier L2C"), line)
            XCTAssertFalse(line.contains("\n"), line)
        }
    }
}
