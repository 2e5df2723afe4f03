import ArgumentParser
import Foundation
import L2CTensor
import L2CTrain

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time ResNet training steps (forward, backward, all-reduce, SGD) on synthetic input or an image folder.",
        discussion: """
        One rank unless launched under mpirun; --batch-size is the global batch, split across ranks. The last \
        line is JSON with images_per_sec, gflops (3 × forward FLOPs per image), peak_fraction (of the FP32 peak \
        measured here with an FMA loop) and peak_rss_mb (largest rank).
        """)

    @Option(help: "resnet18, resnet34 or resnet50.")
    var model: ResNet = .resnet18

    @Option(help: "Square input side; under 64 uses the small-image stem (3×3 conv, no max-pool).")
    var imageSize: Int = 224

    @Option(help: "Global batch (split across ranks).")
    var batchSize: Int = 32

    @Option(help: "Timed steps (after --warmup untimed ones).")
    var steps: Int = 5

    @Option(help: "Untimed warm-up steps.")
    var warmup: Int = 2

    @Option(help: "Compute threads per rank (oneDNN, OpenBLAS, BatchNorm).")
    var threads: Int?

    @Flag(help: "Print a per-layer forward/backward time table.")
    var profile = false

    @Option(help: "Seed of the weights and synthetic batch.")
    var seed: UInt64 = 1

    func run() throws {
        MPIRuntime.run(threads: threads) { comm in
            let options = ModelBenchmark.Options(model: model, imageSize: imageSize, batchSize: batchSize, steps: steps,
                                                 warmupSteps: warmup, profile: profile, seed: seed)
            return try ModelBenchmark.run(options, communicator: comm) { print($0) }
        }
    }
}

extension ResNet: ExpressibleByArgument {}
