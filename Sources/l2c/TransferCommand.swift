import ArgumentParser
import L2CCluster
import L2CTensor
import L2CTrain

extension SPNHead.Statistics: ExpressibleByArgument {}

/// Parses "5,6,7" into class ids.
func parseClasses(_ text: String) throws -> [Int] {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let classes = items.compactMap { Int($0) }
    guard classes.count == items.count, !classes.isEmpty else {
        throw ValidationError("expected comma-separated class ids such as 0,1,2, got '\(text)'")
    }
    return classes
}

struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Cross-task transfer: learn pair similarity on labelled auxiliary classes, cluster unlabelled target classes with it.",
        discussion: """
            Trains a similarity prediction network (backbone + L2C pair head) on the auxiliary classes of the training split, \
            then a clustering network with K outputs on the target classes of the training split, supervised only by the \
            SPN's predicted pairs (or the true pairs with --oracle-similarity). Scores on the target classes of the test split: \
            ACC/NMI/ARI, the estimated number of clusters, the SPN's similar-pair precision/recall/F1 and K-means on the pixels.
            """)

    @Option(help: "Dataset folder (MNIST IDX files) or CSV file.")
    var data: String

    @Option(help: "Backbone: lenet or mlp.")
    var model: Architecture = .lenet

    @Option(name: .customLong("aux-classes"), help: "Labelled auxiliary classes the SPN learns from, e.g. 0,1,2,3,4.")
    var auxClasses: String = ""

    @Option(name: .customLong("target-classes"), help: "Unlabelled target classes to cluster, e.g. 5,6,7,8,9.")
    var targetClasses: String

    @Option(help: "Pairwise loss of the clustering network: kcl or mcl.")
    var loss: LossKind = .kcl

    @Option(help: "Clusters K (outputs of the clustering network); above the truth, the count is estimated.")
    var clusters: Int = 5

    @Flag(name: .customLong("oracle-similarity"), help: "Supervise the clustering network with the true pairs instead of the SPN's.")
    var oracleSimilarity = false

    @Option(name: .customLong("spn-statistics"), help: "BatchNorm statistics of the frozen SPN on target batches: batch (as L2C) or running.")
    var spnStatistics: SPNHead.Statistics = .batch

    @Option(name: .customLong("min-share"), help: "A cluster counts towards the estimated number when it holds at least this share of the target samples.")
    var minimumShare: Double = 0.05

    @Option(name: .customLong("batch-size"), help: "Global minibatch of both networks.")
    var batchSize: Int = 100

    @Option(help: "Epochs of the clustering network.")
    var epochs: Int = 15

    @Option(name: .customLong("spn-epochs"), help: "Epochs of the similarity network.")
    var spnEpochs: Int = 10

    @Option(name: .customLong("lr"), help: "Adam learning rate of the clustering network.")
    var learningRate: Float = 1e-3

    @Option(name: .customLong("spn-lr"), help: "Adam learning rate of the similarity network.")
    var spnLearningRate: Float = 1e-4

    @Option(help: "Seed: a seeded run is reproducible.")
    var seed: UInt64 = 1

    @Option(help: "Output folder: spn.safetensors, model.safetensors, metrics.jsonl.")
    var out: String?

    @Option(help: "BLAS threads per rank.")
    var threads: Int?

    func run() throws {
        var config = TransferConfig(data: data)
        config.model = model
        config.auxiliaryClasses = auxClasses.isEmpty ? [] : try parseClasses(auxClasses)
        config.targetClasses = try parseClasses(targetClasses)
        config.loss = loss
        config.clusters = clusters
        config.oracleSimilarity = oracleSimilarity
        config.spnStatistics = spnStatistics
        config.minimumShare = minimumShare
        config.out = out
        var spn = Optimization(), cluster = Optimization()
        (spn.globalBatch, spn.epochs, spn.learningRate, spn.seed) = (batchSize, spnEpochs, spnLearningRate, seed)
        (cluster.globalBatch, cluster.epochs, cluster.learningRate, cluster.seed) = (batchSize, epochs, learningRate, seed)
        config.spnOptimization = spn
        config.clusterOptimization = cluster
        MPIRuntime.run(threads: threads) { comm in try TransferExperiment.run(config, communicator: comm) }
    }
}
