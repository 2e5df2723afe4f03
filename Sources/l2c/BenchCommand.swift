import ArgumentParser
import Foundation
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time ResNet training steps (forward, backward, all-reduce, SGD) on synthetic input or an image folder.",
        discussion: """
        One rank unless launched under mpirun; --batch-size is the global batch, split across ranks. The last \
        line is JSON with images_per_sec, gflops (3 × forward FLOPs per image), peak_fraction (of the peak measured \
        here with the widest FMA this CPU has: FP32, or bf16 dot products with --precision bf16), precision and \
        peak_rss_mb (largest rank).
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

    @OptionGroup var compute: ThreadsOption

    @Option(help: "Train on this image folder (<class>/*.jpg|png) through the JPEG pipeline instead of synthetic input.")
    var data: String?

    @Option(help: "Decode worker threads per rank with --data (they share the cores with the compute threads).")
    var workers: Int = 2

    @Option(help: "With --data, a file that is not a decodable image: fail or skip (counted, replaced by the next good one).")
    var badImages: BadImagePolicy = .fail

    @Flag(help: "With --data, time only the input pipeline (decode, crop, resize, normalise), no training.")
    var inputOnly = false

    @Flag(help: "Print a per-layer forward/backward time table.")
    var profile = false

    @Option(help: "Seed of the weights and synthetic batch.")
    var seed: UInt64 = 1

    @Flag(name: .customLong("local-batchnorm"), help: "BatchNorm statistics per rank instead of over the global batch.")
    var localBatchNorm = false

    @Option(help: "fp32, bf16 (convolutions on bf16 operands; an error where the CPU has no native bf16) or auto (bf16 where native).")
    var precision: Precision.Choice = .fp32

    @OptionGroup(title: "Gradient exchange")
    var exchange: ExchangeOptions

    func run() throws {
        MPIRuntime.run(threads: compute.threads) { comm in
            var options = ModelBenchmark.Options(model: model, imageSize: imageSize, batchSize: batchSize, steps: steps,
                                                 warmupSteps: warmup, profile: profile, seed: seed)
            options.exchange = exchange.settings
            options.synchronizedBatchNorm = !localBatchNorm
            options.precision = precision
            guard let data else {
                guard !inputOnly else { throw ValidationError("--input-only needs --data") }
                return try ModelBenchmark.run(options, communicator: comm) { print($0) }
            }
            // The loader follows the sampler a training run with this batch and seed draws.
            var plan = Optimization()
            (plan.globalBatch, plan.seed) = (batchSize, seed)
            let input = try StreamingImageInput(try DataSource.open(data).images(), size: imageSize, workers: workers, badImages: badImages,
                                                optimization: plan, firstStep: 0, communicator: comm) { [rank = comm.rank] message in
                FileHandle.standardError.write(Data("l2c: rank \(rank): \(message)\n".utf8))
            }
            var result = inputOnly ? try ModelBenchmark.runInput(options, input: input, communicator: comm)
                                   : try ModelBenchmark.run(options, input: input, communicator: comm) { print($0) }
            result["data"] = input.folder.root
            result["images_in_folder"] = input.folder.count
            result["decode_workers"] = workers
            result["skipped_images"] = input.loader.skippedImages
            return result
        }
    }
}

extension ResNet: ExpressibleByArgument {}
extension BadImagePolicy: ExpressibleByArgument {}
