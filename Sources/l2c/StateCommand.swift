import ArgumentParser
import Foundation
import L2CBench
import L2CExperiments
import L2CRun

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Verify a training state (its SHA-256 and fields) and print what it holds as one JSON line.",
        discussion: "PATH is a state file, or an OUT folder / checkpoints folder (its newest state). Exits 1 with a one-line error when the state is truncated or corrupt.")

    @Argument(help: "A state-*.safetensors file, or a folder of them.")
    var path: String

    func run() throws {
        var isFolder: ObjCBool = false
        var file = path
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            guard let newest = StateFolder.named(path).states().first else {
                fail("\(path): holds no training state (state-*.safetensors)")
            }
            file = newest.path
        }
        do {
            let state = try TrainingState.load(file)
            let tensors = state.contents.tensors
            let summary: [String: Any] = [
                "path": file, "command": state.command, "phase": state.phase, "step": state.step, "optimizer_steps": state.optimizerSteps,
                "tensors": tensors.count, "parameters": tensors.filter { !$0.key.hasPrefix("optimizer.") }.reduce(0) { $0 + $1.value.values.count },
                "sha256": state.contents.metadata["sha256"] ?? "", "completed_phases": state.completed.keys.sorted(), "options": state.options,
                "ranks_written_with": Int(state.contents.metadata["ranks"] ?? "") ?? 0,
            ]
            print(JSONLine.encode(summary))
        } catch {
            fail("\(error)")
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("l2c: error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
