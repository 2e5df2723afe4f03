import ArgumentParser

struct L2CCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "l2c",
        abstract: "Distributed deep clustering (KCL, MCL) on CPU clusters over MPI.",
        discussion: """
            Launch under mpirun for data-parallel training; --batch-size is always the global batch, split evenly \
            over the ranks. Logs go to standard error (rank 0 only); the last line on standard output is one JSON \
            object summarising the run.
            """,
        subcommands: [TrainCommand.self, PackCommand.self, BenchCommand.self, BenchCommCommand.self, ScalingCommand.self, PredictCommand.self, AdaptCommand.self, TrainSPNCommand.self, ClusterCommand.self, TransferCommand.self, ACOLCommand.self, EvalCommand.self, StateCommand.self, BenchLossCommand.self, BenchSPNCommand.self, InfoCommand.self])
}
