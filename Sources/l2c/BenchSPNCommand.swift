import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun

struct BenchSPNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-spn",
        abstract: "Time forward+backward of the SPN pair head over all pairs of a global batch, factorised and (with --naive) concatenated.")

    @Option(help: "Global batch N (all N² pairs).")
    var n: Int = 1024

    @Option(help: "Feature width f of the backbone (the head's hidden width is 4f).")
    var features: Int = 64

    @Option(help: "Timed repetitions (after one warm-up).")
    var repeats: Int = 3

    @Flag(help: "Also time the reference-style head that concatenates all N² pairs (one rank; needs N²·4f floats several times over).")
    var naive = false

    @Option(help: "Seed of the random batch.")
    var seed: UInt64 = 1

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        MPIRuntime.run(threads: compute.threads) { comm in
            try SPNBenchmark.run(globalBatch: n, features: features, repeats: repeats, naive: naive, seed: seed, communicator: comm)
        }
    }
}
