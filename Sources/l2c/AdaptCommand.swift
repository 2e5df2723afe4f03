import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

extension AdaptationMethod: ExpressibleByArgument {}
extension DomainBatchNorm: ExpressibleByArgument {}

struct AdaptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt",
        abstract: "Cross-domain transfer: train on a labelled source domain for an unlabelled target domain with the same classes (source-only, DANN, CCN+, CCN++).",
        discussion: """
        Every step draws a global source batch and a global target batch (independent shuffles, both sharded over \
        the ranks) through one backbone: one pass per domain with each domain's own BatchNorm statistics (default, \
        --batchnorm per-domain), or one pass over both with statistics shared (--batchnorm shared). \
        Loss: cross-entropy on the source; CCN+ adds --lco-weight × KCL/MCL over all pairs of the global target batch, \
        the pairs labelled by a frozen similarity network (--spn, or one trained on the source's labels first); \
        DANN adds --domain-weight × a domain classifier's cross-entropy behind a gradient-reversal layer whose weight \
        rises as 2/(1+exp(−10p))−1 over training progress p (so, like a cosine schedule, it follows --steps/--epochs: \
        a resumed run keeps them to continue bit for bit; --lr-schedule dann anneals the rate as DANN does); CCN++ adds \
        both. The target's labels only score. The \
        JSON line holds target_acc, source_acc, method, loss, spn_f1_similar, ranks, global_batch, steps, checkpoint.
        """)

    @Option(help: "Labelled source domain: a folder of MNIST IDX files (train and t10k), a CSV file, or an image folder (<class>/*.jpg, or Office-31's <domain> with images/<class>/*.jpg).")
    var source: String

    @Option(help: "Unlabelled target domain with the same classes (its labels only score).")
    var target: String

    @OptionGroup var network: ModelOption

    @Option(help: "source-only, dann, ccn+ or ccn++.")
    var method: AdaptationMethod = .ccnPlus

    @Option(help: "Clustering loss on the target pairs: kcl or mcl.")
    var loss: LossKind = .kcl

    @Option(help: "A similarity network from `l2c train-spn` (default: train one on the source first).")
    var spn: String?

    @Option(name: .customLong("lco-weight"), help: "Weight λ_lco of the clustering loss on the target.")
    var clusteringWeight: Double = 1

    @Option(name: .customLong("domain-weight"), help: "Weight λ_d of the domain loss.")
    var domainWeight: Double = 1

    @Option(name: .customLong("image-size"), help: "Resize both domains to N×N (IDX/CSV: bilinear; image folders: decoded at N; default: the source's size, 224 for folders).")
    var imageSize: Int?

    @Option(help: "BatchNorm statistics: per-domain (default: a pass per domain, each with its own statistics; the target's score the target) or shared (one pass over both domains). Per-domain measured better in 9 of 12 protocol × method means (README).")
    var batchnorm: DomainBatchNorm = .perDomain

    @Option(name: .customLong("init"), help: "Initialise the backbone (and the SPN trained here) from a safetensors file with the model's tensor names (torchvision's for ResNets); the classifier head is skipped. Reports loaded, missing, unexpected and mismatched tensors.")
    var initialWeights: String?

    @Option(name: .customLong("spn-epochs"), help: "Epochs of the similarity network trained on the source.")
    var spnEpochs: Int = 10

    @Option(name: .customLong("spn-lr"), help: "Adam learning rate of that similarity network.")
    var spnLearningRate: Float = 1e-3

    @OptionGroup(title: "Optimisation")
    var optimization: OptimizationOptions

    @OptionGroup(title: "Long runs")
    var longRun: RunOptions

    @OptionGroup var output: OutputOption

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        var config = AdaptConfig(source: source, target: target)
        config.model = network.model
        config.method = method
        config.loss = loss
        config.spnCheckpoint = spn
        config.clusteringWeight = clusteringWeight
        config.domainWeight = domainWeight
        config.imageSize = imageSize
        config.batchNorm = batchnorm
        config.initialWeights = initialWeights
        config.optimization = optimization.settings
        var spnOptimization = Optimization()
        (spnOptimization.globalBatch, spnOptimization.epochs, spnOptimization.learningRate, spnOptimization.seed) =
            (optimization.batchSize, spnEpochs, spnLearningRate, optimization.seed)
        spnOptimization.precision = optimization.precision
        config.spnOptimization = spnOptimization
        config.out = output.out
        config.runPolicy = longRun.policy
        MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in try DomainAdaptation.run(config, communicator: comm) }
    }
}
