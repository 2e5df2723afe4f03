import ArgumentParser
import L2CTensor
import L2CTrain

extension Architecture: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a clustering network with pairwise supervision (kcl, mcl) or class labels (ce).",
        discussion: """
            For kcl and mcl the class labels are reduced to pairwise same/different constraints over all
            pairs of the global batch, and the network's K outputs become clusters. The model is scored on
            the test split (Hungarian accuracy, NMI, ARI) and saved as OUT/model.safetensors, with a
            JSON-lines log OUT/metrics.jsonl.

            Example: mpirun -np 2 l2c train --data data/mnist5k --model lenet --loss kcl --clusters 10 \\
                       --batch-size 100 --epochs 10 --lr 0.001 --seed 1 --out runs/kcl
            """)

    @Option(help: "A folder with the four MNIST IDX files (train-images-idx3-ubyte, …, raw or .gz), or a CSV file (per row the pixels of a square image, 0–255, and the label).")
    var data: String

    @Option(name: .customLong("test-data"), help: "Where to score the trained model (default: --data; a folder's t10k files, or a CSV file).")
    var testData: String?

    @Option(name: .customLong("label-column"), help: "0-based label column of CSV files (default: the last).")
    var labelColumn: Int?

    @Option(help: "Network: lenet (28×28-like images, with BatchNorm) or mlp (any input).")
    var model: Architecture = .lenet

    @Option(help: "Loss: ce (class labels), kcl or mcl (pairwise constraints derived from the labels).")
    var loss: LossKind = .kcl

    @Option(help: "Number of network outputs K (clusters; for ce at least the number of classes).")
    var clusters: Int = 10

    @Option(name: .customLong("batch-size"), help: "Global minibatch, split evenly over the ranks (must be divisible by the rank count).")
    var batchSize: Int = 100

    @Option(help: "Optimisation steps (overrides --epochs).")
    var steps: Int?

    @Option(help: "Epochs over the training set (default 10 when --steps is not given).")
    var epochs: Int?

    @Option(help: "Optimiser: adam or sgd.")
    var optimizer: OptimizerKind = .adam

    @Option(name: .customLong("lr"), help: "Learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(help: "Nesterov momentum for SGD.")
    var nesterov = false

    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (not applied to biases and BatchNorm).")
    var weightDecay: Float = 0

    @Option(name: .customLong("lr-step"), help: "Multiply the learning rate by --lr-gamma every this many steps (0: constant).")
    var learningRateStep = 0

    @Option(name: .customLong("lr-gamma"), help: "Factor of the step learning-rate schedule.")
    var learningRateGamma: Float = 0.1

    @Option(help: "Seed for initialisation, shuffling and dropout: a seeded run is reproducible.")
    var seed: UInt64 = 1

    @Option(help: "Output folder for model.safetensors and metrics.jsonl.")
    var out: String?

    @Option(name: .customLong("log-every"), help: "Log every this many steps.")
    var logEvery = 20

    @Flag(name: .customLong("no-eval"), help: "Skip scoring on the test split.")
    var noEval = false

    @Option(help: "BLAS/oneDNN threads per rank (default: cores on the node / ranks on the node).")
    var threads: Int?

    func run() throws {
        var config = TrainingConfig(data: data)
        config.testData = testData
        config.labelColumn = labelColumn
        config.model = model
        config.loss = loss
        config.clusters = clusters
        config.globalBatch = batchSize
        config.steps = steps
        config.epochs = epochs
        config.optimizer = optimizer
        config.learningRate = learningRate
        config.momentum = momentum
        config.nesterov = nesterov
        config.weightDecay = weightDecay
        config.learningRateStep = learningRateStep
        config.learningRateGamma = learningRateGamma
        config.seed = seed
        config.out = out
        config.logEvery = max(1, logEvery)
        config.evaluate = !noEval
        MPIRuntime.run(threads: threads) { comm in
            try Trainer(config: config, communicator: comm).run().json
        }
    }
}
