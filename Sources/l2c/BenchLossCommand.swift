import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun

struct BenchLossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-loss",
        abstract: "Time forward+backward of KCL or MCL over all pairs of a global batch (run under mpirun for several ranks).")

    @Option(help: "Pairwise loss: kcl or mcl.")
    var loss: LossKind = .kcl

    @Option(help: "Global batch N (all N² pairs are enumerated).")
    var n: Int = 1024

    @Option(help: "Number of clusters K.")
    var k: Int = 100

    @Option(help: "Timed repetitions (after one warm-up).")
    var repeats: Int = 5

    @Option(help: "Seed of the random batch.")
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        MPIRuntime.run(threads: compute.threads) { comm in
            try LossBenchmark.run(loss: loss, globalBatch: n, clusters: k, repeats: repeats, seed: seed, communicator: comm)
        }
    }
}
