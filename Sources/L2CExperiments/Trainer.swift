import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// What a finished `l2c train` run reports beside its throughput, its test scores (unless `--no-eval`) and the keys
/// every command shares.
public struct TrainingReport: Encodable {
    public var loss: Double
    public var trainSeconds: Double
}

/// Data-parallel training of a clustering network with CE, KCL or MCL on the global batch.
public final class Trainer {
    public let config: TrainingConfig
    public let communicator: any Communicator
    private let console: Console

    public init(config: TrainingConfig, communicator: any Communicator) {
        self.config = config
        self.communicator = communicator
        console = Console(rank: communicator.rank)
    }

    /// Trains, scores and saves; returns the final JSON line's values.
    public func run() throws -> [String: Any] {
        let comm = communicator
        let experiment = try ExperimentRun("train", config: config, out: config.out, policy: config.runPolicy, communicator: comm)

        let firstStep = experiment.session.resumePoint("train")?.step ?? 0
        let (train, test) = try comm.checked("loading data") { () -> (any PhaseInput, Dataset?) in
            let train: any PhaseInput
            let data = try DataSource.open(config.data, labelColumn: config.labelColumn)
            if data.format.streams {
                guard config.optimization.augmentation == .none else {
                    throw InputError("--augment", "\(config.data) is an image folder, streamed with its own random-resized crop and flip; --augment is for in-memory data (IDX, CSV)")
                }
                train = try StreamingImageInput(try data.images(), size: config.imageSize, workers: config.decodeWorkers,
                                                badImages: config.badImages, optimization: config.optimization, firstStep: firstStep, communicator: comm) {
                    [rank = comm.rank] in FileHandle.standardError.write(Data("l2c: rank \(rank): \($0)\n".utf8))
                }
            } else {
                train = InMemoryInput(try data.load(.train), optimization: config.optimization)
            }
            let test = config.evaluate ? try DataSource.open(config.testData ?? config.data, labelColumn: config.labelColumn)
                .load(.test, imageSize: config.imageSize) : nil
            try validate(train)
            return (train, test)
        }
        try comm.requireAgreement("the training set size", Int64(train.count))
        if let test, test.source == train.source {
            console.log("note: \(config.data) has no separate test split: scoring on the training samples")
        }
        let model = try config.optimization.build(config.model, channels: train.channels, height: train.height, width: train.width,
                                                  outputs: config.clusters, seed: config.optimization.seed, communicator: comm)
        let log = try experiment.log()
        let phase = Phase("train", network: model, what: "model's", optimization: config.optimization, sampleCount: train.count)
        guard let loop = try experiment.begin(phase) else { preconditionFailure("train keeps no finished phase") }
        console.log("\(config.model.rawValue) on \(train.count) samples of \(train.channels)×\(train.height)×\(train.width), loss \(config.loss.rawValue), K=\(config.clusters), \(comm.size) rank(s) × batch \(loop.localBatch) = \(config.optimization.globalBatch), \(loop.steps) steps\(config.optimization.augmentationNote)")
        // Labels of the global batch: pair targets for the pairwise losses, this rank's classes for cross-entropy.
        let (lastLoss, seconds) = try loop.run(Phase.step(model, config.loss.objective, communicator: comm) { batch in
            let (images, globalLabels) = try train.batch(batch, communicator: comm)
            return (images, ObjectiveTargets(batch.pass, labels: Array(comm.share(of: globalLabels)), similarity: LabelSimilarity(labels: globalLabels)))
        })
        try experiment.finish()
        let totalSteps = loop.steps

        let globalBatch = config.optimization.globalBatch
        let report = TrainingReport(loss: JSONLine.round(lastLoss), trainSeconds: JSONLine.round(seconds, digits: 4))
        var scored: ScoreRecord?
        if let test {
            let scores = Evaluation.score(model, test, communicator: comm)
            scored = ScoreRecord(scores)
            log.write(["test_acc": scores.accuracy, "test_nmi": scores.nmi, "test_ari": scores.ari, "clusters_used": scores.clustersUsed])
            console.log(String(format: "test: acc %.4f  nmi %.4f  ari %.4f  clusters used %d", scores.accuracy, scores.nmi, scores.ari, scores.clustersUsed))
        }
        try experiment.saveModel(tensors: model.stateTensors, metadata: ModelCard(
            architecture: config.model, outputs: config.clusters, channels: train.channels, height: train.height, width: train.width,
            loss: config.loss.rawValue, extra: ["seed": "\(config.optimization.seed)"]).metadata)
        return experiment.report(Parts(report, ThroughputRecord(steps: totalSteps, imagesPerStep: globalBatch, seconds: seconds), scored),
                                 globalBatch: globalBatch)
    }

    private func validate(_ train: any PhaseInput) throws {
        guard config.clusters >= 1 else { throw InputError("--clusters", "must be at least 1, got \(config.clusters)") }
        guard train.count >= communicator.size else {
            throw InputError("--data", "\(config.data) has \(train.count) training samples but the job has \(communicator.size) ranks")
        }
        if config.loss == .ce, let top = train.labels.max(), top >= config.clusters {
            throw InputError("--clusters", "cross-entropy needs one output per class: labels go up to \(top), so at least \(top + 1), got \(config.clusters)")
        }
        if config.model == .lenet && (train.height < 16 || train.width < 16) {
            throw InputError("--model", "lenet needs images of at least 16×16, \(config.data) has \(train.height)×\(train.width); use --model mlp")
        }
    }
}
