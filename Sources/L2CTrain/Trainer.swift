import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CTensor

/// What a finished training run reports (the last stdout line of `l2c train`).
public struct TrainingReport {
    public var scores: ClusteringScores?
    public var finalLoss: Double
    public var ranks: Int
    public var globalBatch: Int
    public var steps: Int
    public var imagesPerSecond: Double
    public var seconds: Double
    public var checkpoint: String?

    public var json: [String: Any] {
        var o: [String: Any] = [
            "loss": JSONLine.round(finalLoss), "ranks": ranks, "global_batch": globalBatch, "steps": steps,
            "images_per_sec": JSONLine.round(imagesPerSecond, digits: 4), "train_seconds": JSONLine.round(seconds, digits: 4),
            "checkpoint": checkpoint ?? NSNull(),
        ]
        if let s = scores {
            o["acc"] = JSONLine.round(s.accuracy); o["nmi"] = JSONLine.round(s.nmi); o["ari"] = JSONLine.round(s.ari)
            o["clusters_used"] = s.clustersUsed
        }
        return o
    }
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

    public func run() throws -> TrainingReport {
        let comm = communicator
        try comm.requireAgreement("the configuration (every rank must get the same options)", stableHash(config.fingerprint))
        let (train, test) = try comm.checked("loading data") { () -> (Dataset, Dataset?) in
            let train = try DatasetLoader.load(config.data, split: .train, labelColumn: config.labelColumn)
            let test = config.evaluate ? try DatasetLoader.load(config.testData ?? config.data, split: .test, labelColumn: config.labelColumn) : nil
            try validate(train)
            return (train, test)
        }
        try comm.requireAgreement("the training set size", Int64(train.count))
        if let test, test.source == train.source { console.log("note: \(config.data) has no separate test split: scoring on the training samples") }
        let sampler = try comm.checked("setting up the sampler") {
            try DistributedSampler(sampleCount: train.count, globalBatch: config.globalBatch, rank: comm.rank, ranks: comm.size, seed: config.seed)
        }
        let totalSteps = try plannedSteps(sampler)
        console.log("\(config.model.rawValue) on \(train.count) samples of \(train.channels)×\(train.height)×\(train.width), loss \(config.loss.rawValue), K=\(config.clusters), \(comm.size) rank(s) × batch \(sampler.localBatch) = \(config.globalBatch), \(totalSteps) steps")

        let model = config.model.build(channels: train.channels, height: train.height, width: train.width,
                                       outputs: config.clusters, seed: config.seed, communicator: comm)
        try comm.requireAgreement("the parameter shapes", stableHash(ParameterSync.shapeSignature(model.stateTensors)))
        ParameterSync.broadcastFromRoot(model.stateTensors, comm)
        let parameters = model.parameters
        let optimizer = config.makeOptimizer()
        let schedule = StepSchedule(base: config.learningRate, period: config.learningRateStep, gamma: config.learningRateGamma)
        let log = try comm.checked("opening the metrics log") { () -> MetricsLog in
            guard comm.isRoot, let out = config.out else { return try MetricsLog(path: nil) }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            return try MetricsLog(path: (out as NSString).appendingPathComponent("metrics.jsonl"))
        }

        var packed: Tensor?
        var order: [Int] = []
        var orderEpoch = -1
        var lastLoss = 0.0
        let start = Date()
        for step in 0..<totalSteps {
            let epoch = step / sampler.batchesPerEpoch, batchIndex = step % sampler.batchesPerEpoch
            if epoch != orderEpoch { order = sampler.order(epoch: epoch); orderEpoch = epoch }
            let shard = sampler.shard(order, batch: batchIndex)
            let pass = Pass(training: true, sampleOffset: comm.rank * sampler.localBatch, step: step)
            model.zeroGradients()
            let logits = model.forward(train.batch(shard), pass)
            let gradLogits: Tensor
            switch config.loss {
            case .ce:
                let result = CrossEntropy.evaluate(logits: logits, labels: shard.map { train.labels[$0] }, communicator: comm)
                lastLoss = result.loss
                gradLogits = result.gradLogits
            case .kcl, .mcl:
                let probs = Softmax.forward(logits)
                let labels = sampler.globalBatchIndices(order, batch: batchIndex).map { train.labels[$0] }
                let loss: any PairwiseLoss = config.loss == .kcl ? KCL() : MCL()
                let result = loss.evaluate(localProbs: probs, similarity: LabelSimilarity(labels: labels), communicator: comm)
                lastLoss = result.loss
                gradLogits = Softmax.backward(probs: probs, gradProbs: result.gradProbs)
            }
            _ = model.backward(gradLogits)
            ParameterSync.allReduceGradients(parameters, comm, packed: &packed)
            optimizer.learningRate = schedule.learningRate(atStep: step)
            optimizer.step(parameters)
            guard lastLoss.isFinite else { throw ConfigError("training", "the loss became \(lastLoss) at step \(step + 1); lower --lr") }
            if (step + 1) % config.logEvery == 0 || step + 1 == totalSteps {
                let elapsed = Date().timeIntervalSince(start)
                log.write(["step": step + 1, "epoch": epoch, "loss": JSONLine.round(lastLoss), "lr": Double(optimizer.learningRate),
                           "seconds": JSONLine.round(elapsed, digits: 4)])
                console.log(String(format: "step %d/%d  epoch %d  loss %.5f  %.1f img/s", step + 1, totalSteps, epoch, lastLoss,
                                   Double((step + 1) * config.globalBatch) / max(elapsed, 1e-9)))
            }
        }
        let seconds = Date().timeIntervalSince(start)

        var report = TrainingReport(scores: nil, finalLoss: lastLoss, ranks: comm.size, globalBatch: config.globalBatch, steps: totalSteps,
                                    imagesPerSecond: Double(totalSteps * config.globalBatch) / max(seconds, 1e-9), seconds: seconds)
        if let test {
            let scores = Evaluation.score(model, test, communicator: comm)
            report.scores = scores
            log.write(["test_acc": scores.accuracy, "test_nmi": scores.nmi, "test_ari": scores.ari, "clusters_used": scores.clustersUsed])
            console.log(String(format: "test: acc %.4f  nmi %.4f  ari %.4f  clusters used %d", scores.accuracy, scores.nmi, scores.ari, scores.clustersUsed))
        }
        if let out = config.out {
            let path = (out as NSString).appendingPathComponent("model.safetensors")
            try comm.checked("writing the checkpoint") {
                if comm.isRoot {
                    try Checkpoint.save(path, tensors: model.stateTensors, metadata: checkpointMetadata(train))
                }
            }
            report.checkpoint = path
        }
        return report
    }

    /// What `l2c eval` needs to rebuild the model.
    func checkpointMetadata(_ train: Dataset) -> [String: String] {
        ["format": "l2c-1", "model": config.model.rawValue, "outputs": "\(config.clusters)", "channels": "\(train.channels)",
         "height": "\(train.height)", "width": "\(train.width)", "loss": config.loss.rawValue, "seed": "\(config.seed)"]
    }

    private func validate(_ train: Dataset) throws {
        guard config.clusters >= 1 else { throw ConfigError("--clusters", "must be at least 1, got \(config.clusters)") }
        guard train.count >= communicator.size else {
            throw ConfigError("--data", "\(config.data) has \(train.count) training samples but the job has \(communicator.size) ranks")
        }
        if config.loss == .ce, let top = train.labels.max(), top >= config.clusters {
            throw ConfigError("--clusters", "cross-entropy needs one output per class: labels go up to \(top), so at least \(top + 1), got \(config.clusters)")
        }
        if config.model == .lenet && (train.height < 16 || train.width < 16) {
            throw ConfigError("--model", "lenet needs images of at least 16×16, \(config.data) has \(train.height)×\(train.width); use --model mlp")
        }
    }

    private func plannedSteps(_ sampler: DistributedSampler) throws -> Int {
        if let steps = config.steps {
            guard steps >= 1 else { throw ConfigError("--steps", "must be at least 1, got \(steps)") }
            return steps
        }
        let epochs = config.epochs ?? 10
        guard epochs >= 1 else { throw ConfigError("--epochs", "must be at least 1, got \(epochs)") }
        return epochs * sampler.batchesPerEpoch
    }
}
