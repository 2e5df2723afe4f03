import ArgumentParser
import L2CData
import L2CTrain

extension Split: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a checkpoint's clusters on a dataset split (Hungarian accuracy, NMI, ARI).")

    @Option(help: "A model.safetensors written by l2c train.")
    var checkpoint: String

    @Option(help: "Dataset folder (MNIST IDX files) or CSV file.")
    var data: String

    @Option(name: .customLong("label-column"), help: "0-based label column of CSV files (default: the last).")
    var labelColumn: Int?

    @Option(help: "ACOL checkpoints: the coarse classes it must have been trained with.")
    var parents: Int?

    @Option(help: "ACOL checkpoints: the duplicates per coarse class it must have been trained with.")
    var duplicates: Int?

    @Option(help: "Split to score: test or train.")
    var split: Split = .test

    @Option(help: "BLAS threads per rank.")
    var threads: Int?

    func run() throws {
        MPIRuntime.run(threads: threads) { comm in
            try CheckpointEvaluation.run(checkpoint: checkpoint, data: data, split: split, labelColumn: labelColumn,
                                               parents: parents, duplicates: duplicates, communicator: comm)
        }
    }
}
