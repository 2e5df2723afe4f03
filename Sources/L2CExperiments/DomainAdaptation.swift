import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

public enum DomainAdaptation {
    /// What `l2c adapt` reports beside the keys every command shares.
    public struct Report: Encodable {
        public var method: String
        public var loss: String
        public var batchnorm: String
        /// The SPN's similar-pair F1 on the target's test pairs (CCN+ and CCN++), null otherwise.
        @Nullable public var spnF1Similar: Double?
        /// What `--init` loaded into the backbone, when given.
        public var `init`: PretrainedWeights.Record?
        public var targetAcc = 0.0
        public var sourceAcc = 0.0
        public var finalLoss = 0.0
    }

    /// DANN's schedule of the reversed gradient's weight over training progress p ∈ [0, 1]: 2/(1 + e^(−10p)) − 1.
    public static func reversalWeight(progress p: Double) -> Float { Float(2 / (1 + exp(-10 * p)) - 1) }

    public static func run(_ config: AdaptConfig, communicator comm: any Communicator) throws -> [String: Any] {
        let console = Console(rank: comm.rank)
        let experiment = try ExperimentRun("adapt", config: config, out: config.out, policy: config.runPolicy, communicator: comm)
        let (source, sourceTest, target, targetTest) = try comm.checked("loading data") { try loadDomains(config) }
        try comm.requireAgreement("the source and target set sizes", Int64(source.count &* 1_000_003 &+ target.count))
        let classes = (source.labels.max() ?? 0) + 1
        let log = try experiment.log()
        var result = Report(method: config.method.rawValue, loss: config.loss.rawValue, batchnorm: config.batchNorm.rawValue)

        // The frozen similarity network that labels the target pairs.
        var spn: SimilarityNetwork?
        if config.method.clusters {
            let network = try config.spnCheckpoint.map { path in try comm.checked("loading the SPN") { try SimilarityNetwork.load(path, communicator: comm) } }
                ?? CrossTask.trainSimilarityNetwork(source, architecture: config.model, optimization: config.spnOptimization,
                                                    initialWeights: config.initialWeights, experiment: experiment)
            let scores = CrossTask.similarityScores(network, targetTest, globalBatch: config.spnOptimization.globalBatch, statistics: .batch,
                                                    seed: config.optimization.seed, communicator: comm)
            result.spnF1Similar = JSONLine.round(scores.f1)
            console.log(String(format: "spn on the target test pairs: similar precision %.3f recall %.3f F1 %.3f", scores.precision, scores.recall, scores.f1))
            spn = network
        }

        // One backbone for both domains, the class layer, and the domain head behind gradient reversal.
        let model = try config.optimization.build(config.model, channels: source.channels, height: source.height, width: source.width, outputs: classes,
                                                  seed: config.optimization.seed &+ 2, communicator: comm)
        if let path = config.initialWeights {
            let report = try comm.checked("loading --init") {
                try PretrainedWeights.load(path, into: model.stateTensors, skippingHead: config.model.outputLayerName)
            }
            console.log("init: \(path): \(report.summary)")
            result.`init` = report.record
        }
        let backbone = model.trunk
        let classifier = model.layers.last!.layer as! Linear
        var rng = RandomGenerator(seed: config.optimization.seed &+ 3, stream: 0xd0)
        let domainTerm = DomainAdversarialObjective(classifier: Sequential([("fc1", Linear(classifier.inFeatures, 100, rng: &rng)), ("relu", ReLU()),
                                                                            ("fc2", Linear(100, 2, rng: &rng))]))
        let domainHead = domainTerm.classifier
        let statistics = config.batchNorm == .perDomain ? DomainStatistics(model: model) : nil
        var phase = Phase("adapt", network: model, what: "model's", optimization: config.optimization, sampleCount: source.count)
        phase.tensors = {
            model.stateTensors + (statistics?.stateTensors ?? [])
                + (config.method.adversarial ? domainHead.stateTensors.map { (name: "domain.\($0.name)", tensor: $0.tensor) } : [])
        }
        phase.parameters = model.parameters + (config.method.adversarial ? domainHead.parameters.map { (name: "domain.\($0.name)", parameter: $0.parameter) } : [])
        // Per-domain passes run two backward passes a step: the gradient all-reduce waits for the second.
        phase.overlapping = statistics == nil ? backbone : nil
        guard let loop = try experiment.begin(phase) else { preconditionFailure("adapt keeps no finished phase") }
        // Target batches: their own shuffle, keyed by the step like the source's (so resuming needs no state).
        let targetSchedule = try comm.checked("setting up the target sampler") {
            try DistributedSampler(sampleCount: target.count, globalBatch: config.optimization.globalBatch, rank: comm.rank, ranks: comm.size,
                                   seed: config.optimization.seed &+ 0x7a)
        }
        console.log("adapt: \(config.method.rawValue), \(config.model.rawValue), \(source.count) source and \(target.count) target samples at \(source.height)×\(source.width), \(classes) classes, BatchNorm \(config.batchNorm.rawValue), \(comm.size) rank(s) × batch \(loop.localBatch) per domain, \(loop.steps) steps\(config.optimization.augmentationNote)")
        var targetEpoch = -1
        var targetBatches: [[Int]] = []
        let clustering = config.loss.pairwise.map(PairwiseObjective.init)
        let local = loop.localBatch

        /// The loss terms on the features of one pass whose rows are `sourceLabels.count` source samples, then
        /// `targetInput`'s samples (either part may be empty), and dL/dfeatures (the class layer's backward done).
        /// The domain term's cross-entropy is a mean over both domains' 2B rows, whichever pass a row is in.
        func terms(_ features: Tensor, sourceLabels: [Int], targetInput: Tensor?, step: Int, pass: Pass) -> (loss: Double, gradFeatures: Tensor) {
            let (sourceRows, targetRows) = (sourceLabels.count, features.rows - sourceLabels.count)
            let logits = classifier.forward(features, pass)
            let classes = logits.columns
            let gradLogits = Tensor(shape: logits.shape)
            var loss = 0.0
            if sourceRows > 0 {
                let source = CrossEntropyObjective().evaluate(Tensor(viewing: logits, offset: 0, shape: [sourceRows, classes]),
                                                              ObjectiveTargets(pass, labels: sourceLabels), communicator: comm)
                gradLogits.data.update(from: source.gradOutputs.data, count: source.gradOutputs.count)
                loss += source.loss
            }
            if let spn, let clustering, let targetInput, targetRows > 0 {
                let similarity = spn.head.predictedSimilarity(spn.pairTerms(targetInput, statistics: .batch, communicator: comm))
                let target = clustering.evaluate(Tensor(viewing: logits, offset: sourceRows * classes, shape: [targetRows, classes]),
                                                 ObjectiveTargets(pass, similarity: similarity), communicator: comm)
                let weight = Float(config.clusteringWeight)
                for i in 0..<target.gradOutputs.count { gradLogits[sourceRows * classes + i] = weight * target.gradOutputs[i] }
                loss += config.clusteringWeight * target.loss
            }
            let gradFeatures = classifier.backward(gradLogits)
            if config.method.adversarial {
                domainTerm.reversal.lambda = reversalWeight(progress: Double(step) / Double(max(loop.steps - 1, 1)))
                // Cross-entropy averages over this pass's global rows; the term averages over both domains'.
                domainTerm.weight = config.domainWeight * (Double(features.rows) / Double(2 * local))
                let domain = domainTerm.evaluate(features, ObjectiveTargets(pass, labels: [Int](repeating: 0, count: sourceRows) + [Int](repeating: 1, count: targetRows)),
                                                 communicator: comm)
                for i in 0..<gradFeatures.count { gradFeatures[i] += domain.gradOutputs[i] }
                loss += domain.loss
            }
            return (loss, gradFeatures)
        }

        let (lastLoss, seconds) = try loop.run { batch in
            let epoch = batch.step / targetSchedule.batchesPerEpoch
            if epoch != targetEpoch { (targetEpoch, targetBatches) = (epoch, targetSchedule.epochBatches(epoch)) }
            let targetIndices = comm.share(of: targetBatches[batch.step % targetSchedule.batchesPerEpoch])
            let sourceInput = config.optimization.images(source, batch.localIndices, step: batch.step)
            let targetInput = config.optimization.images(target, targetIndices, step: batch.step, stream: 0x7a)
            let sourceLabels = batch.localIndices.map { source.labels[$0] }
            batch.timer.lap(.input)
            var loss = 0.0
            if let statistics {
                // Source rows with the source's statistics, then target rows with the target's.
                let sourceTerms = terms(backbone.forward(sourceInput, batch.pass), sourceLabels: sourceLabels, targetInput: nil, step: batch.step, pass: batch.pass)
                _ = backbone.backward(sourceTerms.gradFeatures)
                statistics.swap()
                // (Source-only still passes the target forward: its running statistics are the target's.)
                let targetTerms = terms(backbone.forward(targetInput, batch.pass), sourceLabels: [], targetInput: targetInput, step: batch.step, pass: batch.pass)
                if config.method != .sourceOnly { _ = backbone.backward(targetTerms.gradFeatures) }
                statistics.swap()
                loss = sourceTerms.loss + targetTerms.loss
                batch.timer.lap(.backward)
            } else {
                // Source rows first, target rows after: one pass, BatchNorm statistics over both domains.
                let features = backbone.forward(concatenated(sourceInput, targetInput), batch.pass)
                batch.timer.lap(.forward)
                let shared = terms(features, sourceLabels: sourceLabels, targetInput: targetInput, step: batch.step, pass: batch.pass)
                batch.timer.lap(.loss)
                _ = backbone.backward(shared.gradFeatures)
                batch.timer.lap(.backward)
                loss = shared.loss
            }
            if (batch.step + 1) % loop.schedule.batchesPerEpoch == 0 {
                let (sourceAccuracy, targetAccuracy) = scores()
                log.write(["phase": "adapt-eval", "epoch": batch.epoch, "step": batch.step + 1,
                           "source_acc": JSONLine.round(sourceAccuracy), "target_acc": JSONLine.round(targetAccuracy)])
            }
            return loss
        }
        /// Test accuracy on the source and on the target, each with its own BatchNorm statistics when per domain.
        func scores() -> (source: Double, target: Double) {
            let sourceAccuracy = accuracy(model, sourceTest, comm)
            let targetAccuracy = statistics.map { $0.withTarget { accuracy(model, targetTest, comm) } } ?? accuracy(model, targetTest, comm)
            return (sourceAccuracy, targetAccuracy)
        }
        try experiment.finish()
        let (sourceAccuracy, targetAccuracy) = scores()
        console.log(String(format: "adapt: target test accuracy %.4f, source test accuracy %.4f", targetAccuracy, sourceAccuracy))
        (result.targetAcc, result.sourceAcc, result.finalLoss) = (JSONLine.round(targetAccuracy), JSONLine.round(sourceAccuracy), JSONLine.round(lastLoss))
        let globalBatch = config.optimization.globalBatch
        // Each step trains on a global batch of each domain.
        let report = Parts(result, ThroughputRecord(steps: loop.steps, imagesPerStep: 2 * globalBatch, seconds: seconds))
        log.write(experiment.report(report, globalBatch: globalBatch).merging(["phase": "result"]) { mine, _ in mine })
        let card = ModelCard(architecture: config.model, outputs: classes, channels: source.channels, height: source.height, width: source.width,
                             loss: "ce", extra: ["method": config.method.rawValue,
                                                 "batchnorm": config.batchNorm == .perDomain ? "per-domain (the target's running statistics)" : "shared"])
        // The model is for the target: with per-domain BatchNorm it carries the target's running statistics.
        let write = { try experiment.saveModel(tensors: model.stateTensors, metadata: card.metadata) }
        _ = try statistics.map { try $0.withTarget(write) } ?? write()
        return experiment.report(report, globalBatch: globalBatch)
    }

    // MARK: the domains' data and scores

    /// Source and target, train and test splits, at one image size: `--image-size`, or the source's. Image folders
    /// (Office-31's `<domain>/images/<class>/`) are decoded at that size and must name the same classes.
    static func loadDomains(_ config: AdaptConfig) throws -> (source: Dataset, sourceTest: Dataset, target: Dataset, targetTest: Dataset) {
        if let size = config.imageSize, size < 1 { throw InputError("--image-size", "must be a positive number of pixels, got \(size)") }
        let (sourceData, targetData) = (try DataSource.open(config.source), try DataSource.open(config.target))
        if sourceData.format.streams, targetData.format.streams {
            let (sourceClasses, targetClasses) = (try sourceData.images().classNames, try targetData.images().classNames)
            guard sourceClasses == targetClasses else {
                let differ = Set(sourceClasses).symmetricDifference(targetClasses).sorted().prefix(5).joined(separator: ", ")
                throw InputError("--target", "\(config.target) has \(targetClasses.count) class folders, the source \(sourceClasses.count): both domains need the same class names (differing: \(differ))")
            }
        }
        let decodeSize = config.imageSize ?? 224
        let source = try sourceData.load(.train, imageSize: decodeSize)
        let (height, width) = config.imageSize.map { ($0, $0) } ?? (source.height, source.width)
        func sized(_ data: DataSource, _ split: Split) throws -> Dataset {
            try data.load(split, imageSize: decodeSize).resized(height: height, width: width)
        }
        let target = try sized(targetData, .train)
        guard target.channels == source.channels else {
            throw InputError("--target", "\(config.target) has \(target.channels) channel(s) per image, the source \(source.channels): both domains need the same")
        }
        return (source.resized(height: height, width: width), try sized(sourceData, .test), target, try sized(targetData, .test))
    }

    /// Share of `data` the class layer labels correctly (the domains share their classes).
    static func accuracy(_ model: Sequential, _ data: Dataset, _ comm: any Communicator) -> Double {
        Evaluation.accuracy(Evaluation.predict(model, data, communicator: comm), data.labels)
    }

    /// Two NCHW batches of one image size, one after the other.
    static func concatenated(_ a: Tensor, _ b: Tensor) -> Tensor {
        let t = Tensor(shape: [a.rows + b.rows] + Array(a.shape.dropFirst()))
        t.data.update(from: a.data, count: a.count)
        (t.data + a.count).update(from: b.data, count: b.count)
        return t
    }
}
