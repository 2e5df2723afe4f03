import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CTensor

/// `l2c transfer`: the whole cross-task protocol on one dataset split by classes.
public struct TransferConfig: Sendable {
    public var data: String
    public var model: Architecture = .lenet
    public var auxiliaryClasses: [Int] = []
    public var targetClasses: [Int] = []
    public var loss: LossKind = .kcl
    public var clusters = 5
    public var oracleSimilarity = false
    public var spnStatistics: SPNHead.Statistics = .batch
    /// A cluster counts towards the estimate when it receives at least this share of the target samples.
    public var minimumShare = 0.05
    public var spnOptimization = Optimization()
    public var clusterOptimization = Optimization()
    public var out: String?

    public init(data: String) { self.data = data }

    var fingerprint: String {
        [data, model.rawValue, "\(auxiliaryClasses)", "\(targetClasses)", loss.rawValue, "\(clusters)", "\(oracleSimilarity)",
         spnStatistics.rawValue, "\(minimumShare)", spnOptimization.fingerprint, clusterOptimization.fingerprint, out ?? ""].joined(separator: "|")
    }
}

public enum TransferExperiment {
    public static func run(_ config: TransferConfig, communicator comm: any Communicator) throws -> [String: Any] {
        let console = Console(rank: comm.rank)
        try comm.requireAgreement("the configuration (every rank must get the same options)", stableHash(config.fingerprint))
        guard config.loss != .ce, let loss = config.loss.pairwise else { throw ConfigError("--loss", "transfer clusters with kcl or mcl") }
        guard !config.targetClasses.isEmpty else { throw ConfigError("--target-classes", "name at least one class") }
        guard config.oracleSimilarity || !config.auxiliaryClasses.isEmpty else {
            throw ConfigError("--aux-classes", "name the labelled auxiliary classes (or use --oracle-similarity)")
        }
        let overlap = Set(config.auxiliaryClasses).intersection(config.targetClasses)
        guard overlap.isEmpty else { throw ConfigError("--target-classes", "classes \(overlap.sorted()) are also auxiliary classes") }
        let (auxiliary, targetTrain, targetTest) = try comm.checked("loading data") { () -> (Dataset?, Dataset, Dataset) in
            let train = try DatasetLoader.load(config.data, split: .train)
            let test = try DatasetLoader.load(config.data, split: .test)
            return (config.oracleSimilarity ? nil : try train.restricted(to: config.auxiliaryClasses, option: "--aux-classes"),
                    try train.restricted(to: config.targetClasses, option: "--target-classes"),
                    try test.restricted(to: config.targetClasses, option: "--target-classes"))
        }
        try comm.requireAgreement("the target set size", Int64(targetTrain.count))
        let log = try openMetricsLog(out: config.out, communicator: comm)
        let outPath = { (name: String) in config.out.map { ($0 as NSString).appendingPathComponent(name) } }

        var result: [String: Any] = ["k": config.clusters, "clusters_true": config.targetClasses.count, "ranks": comm.size,
                                     "global_batch": config.clusterOptimization.globalBatch, "loss_kind": config.loss.rawValue,
                                     "oracle_similarity": config.oracleSimilarity]
        let supervision: PairSupervision
        if let auxiliary {
            let spn = try CrossTask.trainSimilarityNetwork(auxiliary, architecture: config.model, optimization: config.spnOptimization,
                                                           log: log, communicator: comm)
            if let path = outPath("spn.safetensors") {
                try comm.checked("writing the SPN checkpoint") {
                    if comm.isRoot { try Checkpoint.save(path, tensors: spn.stateTensors, metadata: spnMetadata(config.model, auxiliary)) }
                }
                result["spn_checkpoint"] = path
            }
            let scores = CrossTask.similarityScores(spn, targetTest, globalBatch: config.clusterOptimization.globalBatch,
                                                    statistics: config.spnStatistics, seed: config.clusterOptimization.seed, communicator: comm)
            result["spn_precision_similar"] = JSONLine.round(scores.precision)
            result["spn_recall_similar"] = JSONLine.round(scores.recall)
            result["spn_f1_similar"] = JSONLine.round(scores.f1)
            console.log(String(format: "spn on the target test pairs: similar precision %.3f recall %.3f F1 %.3f", scores.precision, scores.recall, scores.f1))
            supervision = .network(spn, statistics: config.spnStatistics)
        } else {
            result["spn_f1_similar"] = NSNull()
            supervision = .oracle
        }
        let (model, steps, seconds) = try CrossTask.trainClusteringNetwork(
            targetTrain, architecture: config.model, clusters: config.clusters, loss: loss, supervision: supervision,
            optimization: config.clusterOptimization, log: log, communicator: comm)
        let predictions = Evaluation.predict(model, targetTest, communicator: comm)
        let scores = ClusteringMetrics.score(truth: targetTest.labels, predicted: predictions)
        let estimated = ClusterCountEstimate(minimumShare: config.minimumShare).estimate(predictions)
        let kmeans = CrossTask.kMeansScores(targetTest, clusters: config.clusters, seed: config.clusterOptimization.seed)
        console.log(String(format: "target test: acc %.4f nmi %.4f ari %.4f, %d clusters estimated (of %d true); k-means on pixels acc %.4f",
                           scores.accuracy, scores.nmi, scores.ari, estimated, config.targetClasses.count, kmeans.accuracy))
        result["acc"] = JSONLine.round(scores.accuracy)
        result["nmi"] = JSONLine.round(scores.nmi)
        result["ari"] = JSONLine.round(scores.ari)
        result["clusters_used"] = scores.clustersUsed
        result["clusters_estimated"] = estimated
        result["kmeans_acc"] = JSONLine.round(kmeans.accuracy)
        result["kmeans_nmi"] = JSONLine.round(kmeans.nmi)
        result["steps"] = steps
        result["images_per_sec"] = JSONLine.round(Double(steps * config.clusterOptimization.globalBatch) / max(seconds, 1e-9), digits: 4)
        log.write(result.merging(["phase": "result"]) { mine, _ in mine })
        result["checkpoint"] = NSNull()
        if let path = outPath("model.safetensors") {
            try comm.checked("writing the checkpoint") {
                if comm.isRoot {
                    try Checkpoint.save(path, tensors: model.stateTensors, metadata: [
                        "format": "l2c-1", "model": config.model.rawValue, "outputs": "\(config.clusters)", "channels": "\(targetTrain.channels)",
                        "height": "\(targetTrain.height)", "width": "\(targetTrain.width)", "loss": config.loss.rawValue,
                        "classes": config.targetClasses.map(String.init).joined(separator: ",")])
                }
            }
            result["checkpoint"] = path
        }
        return result
    }

    static func spnMetadata(_ model: Architecture, _ data: Dataset) -> [String: String] {
        ["format": "l2c-spn-1", "model": model.rawValue, "channels": "\(data.channels)", "height": "\(data.height)", "width": "\(data.width)",
         "classes": data.classes.map(String.init).joined(separator: ",")]
    }
}
