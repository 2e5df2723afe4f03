import ArgumentParser
import Foundation
import L2CBench
import L2CCluster
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

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

    @OptionGroup var dataset: DataOption

    @OptionGroup var network: ModelOption

    @Option(name: .customLong("aux-classes"), help: "Labelled auxiliary classes the SPN learns from, e.g. 0,1,2,3,4.")
    var auxClasses: String = ""

    @Option(name: .customLong("target-classes"), help: "Unlabelled target classes to cluster, e.g. 5,6,7,8,9.")
    var targetClasses: String?

    @Option(name: .customLong("aux-alphabets"), help: "Image folders: the labelled auxiliary alphabets, comma-separated or @FILE with one name per line.")
    var auxAlphabets: String?

    @Option(name: .customLong("target-alphabets"), help: "Image folders: the alphabets to cluster, each on its own (default: all others).")
    var targetAlphabets: String?

    @OptionGroup(title: "Class-balanced SPN batches")
    var balance: BalanceOptions

    @Option(help: "Pairwise loss of the clustering network: kcl or mcl.")
    var loss: LossKind = .kcl

    @Option(help: "Clusters K (outputs of the clustering network; default 5, or each alphabet's character count); above the truth, the count is estimated.")
    var clusters: Int?

    @Flag(name: .customLong("oracle-similarity"), help: "Supervise the clustering network with the true pairs instead of the SPN's.")
    var oracleSimilarity = false

    @Option(name: .customLong("spn-statistics"), help: "BatchNorm statistics of the frozen SPN on target batches: batch (as L2C) or running.")
    var spnStatistics: SPNHead.Statistics = .batch

    @Option(name: .customLong("min-share"), help: "A cluster, or a group of clusters the SPN's similar pairs join, counts towards the estimated number when it holds at least this share of the target samples (default 0.05; 0.01 for alphabets).")
    var minimumShare: Double?

    @OptionGroup(title: "Optimisation of both networks (--steps, --epochs and --lr: of the clustering network)")
    var optimization: OptimizationOptions

    @Option(name: .customLong("spn-epochs"), help: "Epochs of the similarity network (default: 10, and at least \(CrossTask.stepBudget) steps).")
    var spnEpochs: Int?

    @Option(name: .customLong("spn-lr"), help: "Learning rate of the similarity network.")
    var spnLearningRate: Float = 1e-4

    @OptionGroup(title: "Clustering network")
    var clustering: ClusteringNetworkOptions

    @OptionGroup(title: "Long runs")
    var longRun: RunOptions

    @OptionGroup var output: OutputOption

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        var spn = optimization.settings, cluster = optimization.settings
        (spn.steps, spn.epochs, spn.learningRate) = (nil, spnEpochs, spnLearningRate)
        cluster.defaultEpochs = 15
        (spn.stepBudget, cluster.stepBudget) = (CrossTask.stepBudget, CrossTask.stepBudget)
        if let auxAlphabets = auxAlphabets ?? targetAlphabets.map({ _ in "" }) {
            var config = AlphabetTransferConfig(root: dataset.data)
            config.auxiliaryAlphabets = try parseNames(auxAlphabets)
            config.targetAlphabets = try targetAlphabets.map(parseNames) ?? []
            config.model = network.model
            config.loss = loss
            config.clusters = clusters
            config.oracleSimilarity = oracleSimilarity
            config.spnStatistics = spnStatistics
            config.minimumShare = minimumShare ?? 0.01
            config.balance = ClassBalance(classes: balance.classesPerBatch ?? 20, samples: balance.samplesPerClass)
            spn.globalBatch = config.balance.batch
            config.training.spnOptimization = spn
            config.training.clusterOptimization = cluster
            config.training.restarts = clustering.restartSettings
            config.training.neighbours = clustering.neighbours
            config.training.warmUp = clustering.warmUp(byDefault: 0)
            config.out = output.out
            config.runPolicy = longRun.policy
            MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in try AlphabetTransfer.run(config, communicator: comm) }
        }
        guard let targetClasses else { throw ValidationError("give --target-classes (class ids) or --aux-alphabets (image folders)") }
        var config = TransferConfig(data: dataset.data)
        config.model = network.model
        config.auxiliaryClasses = auxClasses.isEmpty ? [] : try parseClasses(auxClasses)
        config.targetClasses = try parseClasses(targetClasses)
        config.loss = loss
        config.clusters = clusters ?? 5
        config.oracleSimilarity = oracleSimilarity
        config.spnStatistics = spnStatistics
        config.minimumShare = minimumShare ?? 0.05
        config.out = output.out
        config.balance = balance.pair
        if let pair = balance.pair { spn.globalBatch = pair.batch }
        config.training.spnOptimization = spn
        config.training.clusterOptimization = cluster
        config.training.restarts = clustering.restartSettings
        config.training.neighbours = clustering.neighbours
        config.training.warmUp = clustering.warmUp(byDefault: oracleSimilarity ? 0 : ContrastiveWarmUp.defaultSteps)
        config.runPolicy = longRun.policy
        MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in try TransferExperiment.run(config, communicator: comm) }
    }
}

/// Class-balanced batches for the similarity network, as L2C draws them (20 classes × 5 samples on Omniglot).
struct BalanceOptions: ParsableArguments {
    @Option(name: .customLong("classes-per-batch"), help: "Classes in each SPN batch (the batch is classes × samples; default for image folders: 20; otherwise batches are drawn from all samples unless set).")
    var classesPerBatch: Int?

    @Option(name: .customLong("samples-per-class"), help: "Samples of each class in an SPN batch.")
    var samplesPerClass: Int = 5

    var pair: ClassBalance? { classesPerBatch.map { ClassBalance(classes: $0, samples: samplesPerClass) } }
}

/// Names from "a,b,c" or from "@FILE" (one per line; blank lines and # comments skipped).
func parseNames(_ text: String) throws -> [String] {
    if text.hasPrefix("@") {
        let path = String(text.dropFirst())
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("\(path): cannot be read") }
        return contents.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
    return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// How `transfer` and `cluster` train the clustering network: initialisations tried, neighbour pairs.
struct ClusteringNetworkOptions: ParsableArguments {
    @Option(help: "Initialisations of the clustering network to try, in runs of \(ClusteringRestarts.minimumSteps) steps or more: each trains a fifth of the run on the same batches, and the one with the lowest pairwise loss over its trial's second half trains for the whole run. 1: no trials.")
    var restarts: Int = ClusteringRestarts.defaultCount

    @Option(help: "Nearest neighbours N of each target sample called similar (by the cosine of the warmed-up features, or of the centred pixels without a warm-up); each clustering batch pairs its first half with one neighbour each, and the SPN gives the other pairs. auto: samples / (20·K), from 1 to 10; 0: none.")
    var neighbours: NeighbourPairing = .automatic

    @Option(name: .customLong("warm-up-steps"), help: "Steps of a contrastive warm-up of the clustering network's backbone on the unlabelled target (two random views of each sample); its features then give the neighbours and the far pairs, called dissimilar. 0: a random start (L2C as published). Default \(ContrastiveWarmUp.defaultSteps) with an SPN on class-id data, 0 with --oracle-similarity and for alphabets.")
    var warmUpSteps: Int?

    func validate() throws {
        guard restarts >= 1 else { throw ValidationError("--restarts: expected 1 or more, got \(restarts)") }
        if let warmUpSteps, warmUpSteps < 0 { throw ValidationError("--warm-up-steps: expected 0 or more, got \(warmUpSteps)") }
    }

    /// The warm-up asked for, else `steps`.
    func warmUp(byDefault steps: Int) -> ContrastiveWarmUp { ContrastiveWarmUp(steps: warmUpSteps ?? steps) }

    var restartSettings: ClusteringRestarts { ClusteringRestarts(count: restarts) }
}

extension NeighbourPairing: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}
