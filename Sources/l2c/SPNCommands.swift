import ArgumentParser
import L2CBench
import L2CCluster
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

struct TrainSPNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-spn",
        abstract: "Train a similarity prediction network (backbone + L2C pair head) on labelled classes.",
        discussion: "Every ordered pair of each global batch is a training example (same class or not). Writes OUT/spn.safetensors and scores the similar-pair precision/recall/F1 on the test split of the same classes (with --alphabets: on the other alphabets).")

    @OptionGroup var dataset: DataOption

    @OptionGroup var network: ModelOption

    @Option(help: "Labelled classes to learn from, e.g. 0,1,2,3,4 (default: all).")
    var classes: String = ""

    @Option(help: "Image-folder tree root/<alphabet>/<character>/*.png: the alphabets to learn from, comma-separated or @FILE (scored on the other alphabets; class-balanced batches of 20 × 5 by default).")
    var alphabets: String?

    @OptionGroup(title: "Optimisation")
    var optimization: OptimizationOptions

    @OptionGroup(title: "Class-balanced batches")
    var balance: BalanceOptions

    @OptionGroup(title: "Long runs")
    var longRun: RunOptions

    @OptionGroup var output: OutputOption

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        let classes = self.classes.isEmpty ? [] : try parseClasses(self.classes)
        let alphabets = try alphabets.map(parseNames) ?? []
        var settings = optimization.settings
        settings.stepBudget = CrossTask.stepBudget
        let pair = alphabets.isEmpty ? balance.pair : ClassBalance(classes: balance.classesPerBatch ?? 20, samples: balance.samplesPerClass)
        if let pair { settings.globalBatch = pair.batch }
        var config = SPNTrainingConfig(data: dataset.data)
        (config.model, config.classes, config.alphabets, config.optimization) = (network.model, classes, alphabets, settings)
        config.balance = pair
        (config.out, config.runPolicy) = (output.out, longRun.policy)
        MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in try TransferExperiment.trainSimilarityNetwork(config, communicator: comm) }
    }
}

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Cluster unlabelled classes with a trained similarity network's predicted pairs.",
        discussion: "Trains a clustering network with K outputs on the given classes of the training split (their labels unused unless --oracle-similarity), supervised by the SPN's binarised predictions on the pairs of each global batch; scores on the same classes of the test split.")

    @Option(help: "A spn.safetensors written by l2c train-spn or l2c transfer.")
    var spn: String?

    @OptionGroup var dataset: DataOption

    @OptionGroup var network: ModelOption

    @Option(help: "Classes to cluster, e.g. 5,6,7,8,9.")
    var classes: String

    @Option(help: "Pairwise loss: kcl or mcl.")
    var loss: LossKind = .kcl

    @Option(help: "Clusters K; above the truth, the count is estimated.")
    var clusters: Int = 5

    @Flag(name: .customLong("oracle-similarity"), help: "Use the true pairs instead of an SPN.")
    var oracleSimilarity = false

    @Option(name: .customLong("spn-statistics"), help: "BatchNorm statistics of the SPN on target batches: batch or running.")
    var spnStatistics: SPNHead.Statistics = .batch

    @Option(name: .customLong("min-share"), help: "Share of the samples a cluster, or a group of clusters the SPN's similar pairs join, needs to count towards the estimated number.")
    var minimumShare: Double = 0.05

    @OptionGroup(title: "Optimisation")
    var optimization: OptimizationOptions

    @OptionGroup(title: "Clustering network")
    var clustering: ClusteringNetworkOptions

    @OptionGroup(title: "Long runs")
    var longRun: RunOptions

    @OptionGroup var output: OutputOption

    @OptionGroup var compute: ThreadsOption

    func validate() throws {
        guard spn != nil || oracleSimilarity else { throw ValidationError("give --spn CHECKPOINT or --oracle-similarity") }
    }

    func run() throws {
        var config = TransferConfig(data: dataset.data)
        config.model = network.model
        config.targetClasses = try parseClasses(classes)
        config.loss = loss
        config.clusters = clusters
        config.oracleSimilarity = oracleSimilarity
        config.spnCheckpoint = spn
        config.spnStatistics = spnStatistics
        config.minimumShare = minimumShare
        config.training.clusterOptimization = optimization.settings
        config.training.clusterOptimization.stepBudget = CrossTask.stepBudget
        config.training.restarts = clustering.restartSettings
        config.training.neighbours = clustering.neighbours
        config.training.warmUp = clustering.warmUp(byDefault: oracleSimilarity ? 0 : ContrastiveWarmUp.defaultSteps)
        config.out = output.out
        config.runPolicy = longRun.policy
        config.command = "cluster"
        MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in try TransferExperiment.run(config, communicator: comm) }
    }
}
