import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

public enum TransferExperiment {
    /// What `l2c transfer` and `l2c cluster` report beside the SPN's check (when one is trained), the clustering
    /// network's restarts and health, the target's scores, the throughput and the keys every command shares.
    public struct Report: Encodable {
        public var k: Int
        public var clustersTrue: Int
        public var lossKind: String
        public var oracleSimilarity: Bool
        public var spnCheckpoint: String?
        public var spnPrecisionSimilar: Double?
        public var spnRecallSimilar: Double?
        /// Null with the oracle's pairs.
        @Nullable public var spnF1Similar: Double?
        /// What the best threshold would reach on the target (scored with its labels; never used to train).
        public var spnTargetBestF1: Double?
        public var spnTargetBestThreshold: Double?
        /// Clusters holding at least the minimum share, and the count estimated from the SPN's pairs.
        public var clustersAboveShare = 0
        public var clustersEstimated = 0
        /// K-means baselines on the target's test split: pixels, the SPN's features, the warmed-up features.
        public var kmeansAcc = 0.0
        public var kmeansNmi = 0.0
        public var kmeansSpnFeaturesAcc: Double?
        public var kmeansWarmUpFeaturesAcc: Double?

        init(k: Int, clustersTrue: Int, lossKind: String, oracleSimilarity: Bool) {
            (self.k, self.clustersTrue, self.lossKind, self.oracleSimilarity) = (k, clustersTrue, lossKind, oracleSimilarity)
        }
    }

    /// What `l2c train-spn` reports beside the SPN's check and the keys every command shares.
    public struct SPNReport: Encodable {
        public var spnPrecisionSimilar: Double
        public var spnRecallSimilar: Double
        public var spnF1Similar: Double
        /// The classes learnt: their labels, or for alphabets (hundreds of characters) their number.
        public var classes: Classes
        public var trainSeconds: Double

        public enum Classes: Encodable {
            case labels([Int])
            case count(Int)
            public func encode(to encoder: Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .labels(let labels): try container.encode(labels)
                case .count(let count): try container.encode(count)
                }
            }
        }
    }

    public static func run(_ config: TransferConfig, communicator comm: any Communicator) throws -> [String: Any] {
        let console = Console(rank: comm.rank)
        let experiment = try ExperimentRun(config.command, config: config, out: config.out, policy: config.runPolicy, communicator: comm)
        guard config.loss != .ce, let loss = config.loss.pairwise else { throw InputError("--loss", "transfer clusters with kcl or mcl") }
        guard !config.targetClasses.isEmpty else { throw InputError("--target-classes", "name at least one class") }
        let trainsSPN = !config.oracleSimilarity && config.spnCheckpoint == nil
        guard !trainsSPN || !config.auxiliaryClasses.isEmpty else {
            throw InputError("--aux-classes", "name the labelled auxiliary classes (or use --oracle-similarity)")
        }
        let overlap = Set(config.auxiliaryClasses).intersection(config.targetClasses)
        guard overlap.isEmpty else { throw InputError("--target-classes", "classes \(overlap.sorted()) are also auxiliary classes") }
        let (auxiliary, auxiliaryTest, targetTrain, targetTest) = try comm.checked("loading data") { () -> (Dataset?, Dataset?, Dataset, Dataset) in
            let source = try DataSource.open(config.data)
            let (train, test) = (try source.load(.train), try source.load(.test))
            return (trainsSPN ? try train.restricted(to: config.auxiliaryClasses, option: "--aux-classes") : nil,
                    trainsSPN ? try test.restricted(to: config.auxiliaryClasses, option: "--aux-classes") : nil,
                    try train.restricted(to: config.targetClasses, option: "--target-classes"),
                    try test.restricted(to: config.targetClasses, option: "--target-classes"))
        }
        try comm.requireAgreement("the target set size", Int64(targetTrain.count))
        let log = try experiment.log()

        var result = Report(k: config.clusters, clustersTrue: config.targetClasses.count, lossKind: config.loss.rawValue,
                            oracleSimilarity: config.oracleSimilarity)
        var spnCheck: SimilarityNetwork.CheckSummary?
        let supervision: PairSupervision
        let spn: SimilarityNetwork?
        if let auxiliary {
            let trained = try CrossTask.trainCheckedSimilarityNetwork(auxiliary, test: auxiliaryTest, architecture: config.model,
                                                                      optimization: config.training.spnOptimization, balance: config.balance, experiment: experiment)
            spnCheck = trained.checkSummary
            if let path = try experiment.saveModel("spn.safetensors", tensors: trained.stateTensors, metadata: spnMetadata(trained, auxiliary), reported: false) {
                result.spnCheckpoint = path
            }
            spn = trained
        } else if !config.oracleSimilarity, let path = config.spnCheckpoint {
            spn = try comm.checked("loading the SPN") { () -> SimilarityNetwork in
                let loaded = try SimilarityNetwork.load(path, communicator: comm)
                let shape = [targetTrain.channels, targetTrain.height, targetTrain.width]
                guard loaded.inputShape == shape else {
                    throw InputError(path, "the SPN takes inputs of shape \(loaded.inputShape), \(config.data) has \(shape)")
                }
                return loaded
            }
            result.spnCheckpoint = path
        } else {
            spn = nil
        }
        if let spn {
            let scores = CrossTask.similarityScores(spn, targetTest, globalBatch: config.training.clusterOptimization.globalBatch,
                                                    statistics: config.spnStatistics, seed: config.training.clusterOptimization.seed, communicator: comm)
            (result.spnPrecisionSimilar, result.spnRecallSimilar) = (JSONLine.round(scores.precision), JSONLine.round(scores.recall))
            result.spnF1Similar = JSONLine.round(scores.f1)
            // What the best threshold would reach on the target (scored with its labels, as above; never used to train).
            let targetBest = SimilarityCheck(heldOut: targetTest, globalBatch: config.training.clusterOptimization.globalBatch, ranks: comm.size,
                                             seed: config.training.clusterOptimization.seed).score(spn, statistics: config.spnStatistics, communicator: comm)
            (result.spnTargetBestF1, result.spnTargetBestThreshold) = (JSONLine.round(targetBest.f1), JSONLine.round(targetBest.threshold))
            console.log(String(format: "spn on the target test pairs: similar precision %.3f recall %.3f F1 %.3f at p = 0.5; best F1 %.3f (precision %.3f, recall %.3f) at p = %.3f",
                               scores.precision, scores.recall, scores.f1, targetBest.f1, targetBest.precision, targetBest.recall, targetBest.threshold))
            supervision = .network(spn, statistics: config.spnStatistics)
        } else {
            supervision = .oracle
        }
        let run = try CrossTask.trainClusteringNetwork(
            targetTrain, architecture: config.model, clusters: config.clusters, loss: loss, supervision: supervision,
            optimization: config.training.clusterOptimization, restarts: config.training.restarts, pairing: config.training.neighbours, warmUp: config.training.warmUp, experiment: experiment)
        let (model, steps, seconds) = (run.model, run.steps, run.seconds)
        try experiment.finish()
        let predictions = Evaluation.predict(model, targetTest, communicator: comm)
        let scores = ClusteringMetrics.score(truth: targetTest.labels, predicted: predictions)
        let bySize = ClusterCountEstimate(minimumShare: config.minimumShare).estimate(predictions)
        var estimated = bySize
        if let spn {
            estimated = ClusterMerging.count(spn, targetTest, assignments: predictions, clusters: config.clusters,
                                             globalBatch: config.training.clusterOptimization.globalBatch, statistics: config.spnStatistics,
                                             minimumShare: config.minimumShare, seed: config.training.clusterOptimization.seed,
                                             far: ClusterMerging.farSpace(run, targetTest, communicator: comm), communicator: comm)
        }
        result.clustersAboveShare = bySize
        let health = ClusteringHealth.measure(assignments: predictions, clusters: config.clusters, data: targetTest, supervision: supervision,
                                              globalBatch: config.training.clusterOptimization.globalBatch, seed: config.training.clusterOptimization.seed,
                                              communicator: comm)
        if let warning = health.warning { console.log(warning) }
        let kmeans = CrossTask.kMeansScores(targetTest, clusters: config.clusters, seed: config.training.clusterOptimization.seed)
        console.log(String(format: "target test: acc %.4f nmi %.4f ari %.4f, %d clusters estimated (of %d true); k-means on pixels acc %.4f",
                           scores.accuracy, scores.nmi, scores.ari, estimated, config.targetClasses.count, kmeans.accuracy))
        result.clustersEstimated = estimated
        (result.kmeansAcc, result.kmeansNmi) = (JSONLine.round(kmeans.accuracy), JSONLine.round(kmeans.nmi))
        if let spn {
            let onFeatures = CrossTask.kMeansOnFeatures(spn.backbone, targetTest, clusters: config.clusters, seed: config.training.clusterOptimization.seed)
            result.kmeansSpnFeaturesAcc = JSONLine.round(onFeatures.accuracy)
            console.log(String(format: "k-means on SPN features: acc %.4f", onFeatures.accuracy))
        }
        if let trunk = run.warmedUpTrunk {
            let onFeatures = CrossTask.kMeansOnFeatures(trunk, targetTest, clusters: config.clusters, seed: config.training.clusterOptimization.seed, cosine: true)
            result.kmeansWarmUpFeaturesAcc = JSONLine.round(onFeatures.accuracy)
            console.log(String(format: "k-means on the warm-up backbone's features (cosine): acc %.4f", onFeatures.accuracy))
        }
        let globalBatch = config.training.clusterOptimization.globalBatch
        let report = Parts(result, spnCheck, run.restartRecord, health.record, ScoreRecord(scores),
                           ThroughputRecord(steps: steps, imagesPerStep: globalBatch, seconds: seconds))
        log.write(experiment.report(report, globalBatch: globalBatch).merging(["phase": "result"]) { mine, _ in mine })
        try experiment.saveModel(tensors: model.stateTensors, metadata: ModelCard(
            architecture: config.model, outputs: config.clusters, channels: targetTrain.channels, height: targetTrain.height, width: targetTrain.width,
            loss: config.loss.rawValue, extra: ["classes": config.targetClasses.map(String.init).joined(separator: ",")]).metadata)
        return experiment.report(report, globalBatch: globalBatch)
    }

    /// `l2c train-spn`: a similarity network on labelled classes, saved as OUT/spn.safetensors and scored on the
    /// pairs of the same classes' test split.
    /// `alphabets`: on an image-folder tree root/<alphabet>/<character>/, learn the characters of these alphabets
    /// and score on the others' (unseen classes, as the target of cross-task transfer will be).
    public static func trainSimilarityNetwork(_ config: SPNTrainingConfig, communicator comm: any Communicator) throws -> [String: Any] {
        let (data, model, classes, alphabets, optimization) = (config.data, config.model, config.classes, config.alphabets, config.optimization)
        let experiment = try ExperimentRun("train-spn", config: config, out: config.out, policy: config.runPolicy, communicator: comm)
        let (all, test) = try comm.checked("loading data") { () -> (Dataset, Dataset) in
            let source = try DataSource.open(data)
            if !alphabets.isEmpty {
                let others = try source.alphabetNames().filter { !alphabets.contains($0) }
                let train = try source.alphabets(alphabets).dataset
                return (train, others.isEmpty ? train : try source.alphabets(others).dataset)
            }
            let train = try source.load(.train), test = try source.load(.test)
            return classes.isEmpty ? (train, test) : (try train.restricted(to: classes, option: "--classes"), try test.restricted(to: classes, option: "--classes"))
        }
        let train = all
        try comm.requireAgreement("the training set size", Int64(train.count))
        _ = try experiment.log()
        let start = Date()
        // Checked while it trains on held-out classes (alphabets: a tenth of the characters), or on the test split.
        let network = try CrossTask.trainCheckedSimilarityNetwork(train, test: alphabets.isEmpty ? test : nil, architecture: model,
                                                                  optimization: optimization, balance: config.balance, experiment: experiment)
        try experiment.finish()
        let seconds = Date().timeIntervalSince(start)
        let scores = CrossTask.similarityScores(network, test, globalBatch: optimization.globalBatch, statistics: .batch,
                                                seed: optimization.seed, communicator: comm)
        let result = SPNReport(spnPrecisionSimilar: JSONLine.round(scores.precision), spnRecallSimilar: JSONLine.round(scores.recall),
                               spnF1Similar: JSONLine.round(scores.f1),
                               classes: alphabets.isEmpty ? .labels(train.classes) : .count(train.classes.count),
                               trainSeconds: JSONLine.round(seconds, digits: 4))
        try experiment.saveModel("spn.safetensors", tensors: network.stateTensors, metadata: spnMetadata(network, train))
        return experiment.report(Parts(result, network.checkSummary), globalBatch: optimization.globalBatch)
    }

    static func spnMetadata(_ network: SimilarityNetwork, _ data: Dataset) -> [String: String] {
        ["format": "l2c-spn-1", "model": network.architecture.rawValue, "channels": "\(data.channels)", "height": "\(data.height)",
         "width": "\(data.width)", "classes": data.classes.map(String.init).joined(separator: ",")].merging(network.checkMetadata) { a, _ in a }
    }
}
