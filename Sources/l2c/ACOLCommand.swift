import ArgumentParser
import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor

struct ACOLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acol",
        abstract: "Fine clusters inside coarse labels: ACOL output layer with GAR regularisation (Kilinc & Uysal).",
        discussion: """
            The network's last layer has parents × duplicates nodes; parent p owns the contiguous nodes p·k … p·k+k−1. \
            It trains with cross-entropy on the coarse labels only, plus GAR on the nodes' activities; each sample's \
            fine cluster is its most active node. Scored on the test split against the fine labels (overall and per \
            coarse class) and the coarse labels.
            """)

    @OptionGroup var dataset: DataOption

    @OptionGroup var network: ModelOption

    @Option(help: "Coarse classes P.")
    var parents: Int = 2

    @Option(help: "Duplicated nodes k per coarse class.")
    var duplicates: Int = 5

    @Option(name: .customLong("coarse-map"), help: "File with one line per fine class: 'fine_label coarse_label' (default: CIFAR-100's labels, or the sorted classes cut into P equal blocks).")
    var coarseMap: String?

    @Option(help: "GAR affinity weight c1.")
    var c1: Double = 1

    @Option(help: "GAR balance weight c2.")
    var c2: Double = 1

    @Option(help: "GAR coactivity weight c3.")
    var c3: Double = 0

    @Option(help: "L2 weight c4 on the activities (a sum over the batch, not a mean).")
    var c4: Double = 0

    @Option(name: .customLong("gar-warmup"), help: "Steps over which GAR's weight rises linearly from 0 to 1 (0: full from the start).")
    var garWarmup: Int = 0

    @Flag(name: .customLong("revive-dead"), help: "At each epoch's end, re-seed nodes without positive activity from their most active sibling.")
    var reviveDead = false

    @OptionGroup(title: "Optimisation")
    var optimization: OptimizationOptions

    @OptionGroup(title: "Long runs")
    var longRun: RunOptions

    @OptionGroup var output: OutputOption

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        var config = ACOLConfig(data: dataset.data)
        config.model = network.model
        config.parents = parents
        config.duplicates = duplicates
        config.coarseMap = coarseMap
        (config.c1, config.c2, config.c3, config.c4) = (c1, c2, c3, c4)
        config.garWarmup = garWarmup
        config.reviveDeadNodes = reviveDead
        config.optimization = optimization.settings
        config.out = output.out
        config.runPolicy = longRun.policy
        MPIRuntime.run(threads: compute.threads, stopsOnSignals: true) { comm in try ACOLExperiment.run(config, communicator: comm) }
    }
}
