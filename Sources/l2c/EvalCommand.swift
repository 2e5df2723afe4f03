import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun

extension Split: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a checkpoint's clusters on a dataset split (Hungarian accuracy, NMI, ARI).")

    @Option(help: "A model.safetensors written by l2c train.")
    var checkpoint: String

    @OptionGroup var dataset: DataOption

    @Option(name: .customLong("label-column"), help: "0-based label column of CSV files (default: the last).")
    var labelColumn: Int?

    @Option(help: "ACOL checkpoints: the coarse classes it must have been trained with.")
    var parents: Int?

    @Option(help: "ACOL checkpoints: the duplicates per coarse class it must have been trained with.")
    var duplicates: Int?

    @Option(help: "Split to score: test or train.")
    var split: Split = .test

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        MPIRuntime.run(threads: compute.threads) { comm in
            try CheckpointEvaluation.run(checkpoint: checkpoint, data: dataset.data, split: split, labelColumn: labelColumn,
                                               parents: parents, duplicates: duplicates, communicator: comm)
        }
    }
}
