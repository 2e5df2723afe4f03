import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

extension LossKind: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a clustering network with pairwise supervision (kcl, mcl) or class labels (ce).",
        discussion: """
            For kcl and mcl the class labels are reduced to pairwise same/different constraints over all pairs of the \
            global batch, and the network's K outputs become clusters. The model is scored on the test split \
            (Hungarian accuracy, NMI, ARI) and saved as OUT/model.safetensors, with a JSON-lines log OUT/metrics.jsonl.

            Example: mpirun -np 2 l2c train --data data/mnist5k --model lenet --loss kcl --clusters 10 \
            --batch-size 100 --epochs 10 --lr 0.001 --seed 1 --out runs/kcl
            """)

    @OptionGroup var dataset: DataOption

    @Option(name: .customLong("test-data"), help: "Where to score the trained model (default: --data; a folder's t10k files, or a CSV file).")
    var testData: String?

    @Option(name: .customLong("label-column"), help: "0-based label column of CSV files (default: the last).")
    var labelColumn: Int?

    @OptionGroup var network: ModelOption

    @Option(help: "Loss: ce (class labels), kcl or mcl (pairwise constraints derived from the labels).")
    var loss: LossKind = .kcl

    @Option(help: "Number of network outputs K (clusters; for ce at least the number of classes).")
    var clusters: Int = 10

    @OptionGroup(title: "Optimisation")
    var optimization: OptimizationOptions

    @OptionGroup var output: OutputOption

    @Option(help: "Image folders (<class>/*.jpg|png, ImageNet or Office-31 layout): the network's input side.")
    var imageSize = 224

    @Option(help: "Image folders: decode threads per rank (they prefetch the next batches while a step runs).")
    var workers = 2

    @Option(help: "Image folders: a file that is not a decodable image: fail, or skip (reported once, counted, replaced by the next good one).")
    var badImages: BadImagePolicy = .fail

    @OptionGroup(title: "Long runs")
    var longRun: RunOptions

    @Flag(name: .customLong("no-eval"), help: "Skip scoring on the test split.")
    var noEval = false

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        var config = TrainingConfig(data: dataset.data)
        config.testData = testData
        config.labelColumn = labelColumn
        config.model = network.model
        config.loss = loss
        config.clusters = clusters
        config.optimization = optimization.settings
        config.out = output.out
        config.evaluate = !noEval
        config.imageSize = imageSize
        config.decodeWorkers = workers
        config.badImages = badImages
        config.runPolicy = longRun.policy
        MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in
            try Trainer(config: config, communicator: comm).run()
        }
    }
}
