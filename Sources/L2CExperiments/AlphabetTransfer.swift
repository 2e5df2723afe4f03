import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

public enum AlphabetTransfer {
    /// What the alphabets' transfer reports beside the SPN's check (when one is trained) and the keys every command
    /// shares: the means over the target alphabets, and each alphabet's row.
    public struct Report: Encodable {
        public var k: K
        public var lossKind: String
        public var oracleSimilarity: Bool
        public var targetAlphabets: Int
        public var spnCheckpoint: String?
        public var acc = 0.0, nmi = 0.0, ari = 0.0, kmeansAcc = 0.0
        public var clustersEstimated = 0.0, clustersAboveShare = 0.0, dissimilarPairsTogether = 0.0
        public var collapsedAlphabets = 0
        public var clustersTrue = 0.0
        /// Mean of |estimated − true| / true over the alphabets.
        public var countError = 0.0
        /// Null with the oracle's pairs.
        @Nullable public var spnF1Similar: Double?
        public var alphabets: [Row] = []

        init(k: K, lossKind: String, oracleSimilarity: Bool, targetAlphabets: Int) {
            (self.k, self.lossKind, self.oracleSimilarity, self.targetAlphabets) = (k, lossKind, oracleSimilarity, targetAlphabets)
        }

        /// K for every alphabet, or "known": each alphabet's character count.
        public enum K: Encodable {
            case clusters(Int)
            case known
            public func encode(to encoder: Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .clusters(let k): try container.encode(k)
                case .known: try container.encode("known")
                }
            }
        }
    }

    /// One target alphabet's scores; also the record of its finished phase in the training states.
    public struct Row: Codable {
        public var alphabet: String
        public var characters: Int
        public var k: Int
        public var acc: Double
        public var nmi: Double
        public var ari: Double
        public var clustersAboveShare: Int
        public var spnF1Similar: Double?
        public var dissimilarPairsTogether = 0.0
        public var clustersEstimated = 0
        public var kmeansAcc = 0.0

        init(alphabet: String, characters: Int, k: Int, acc: Double, nmi: Double, ari: Double, clustersAboveShare: Int) {
            (self.alphabet, self.characters, self.k) = (alphabet, characters, k)
            (self.acc, self.nmi, self.ari, self.clustersAboveShare) = (acc, nmi, ari, clustersAboveShare)
        }

        /// A row as a finished phase recorded it (`jsonObject`'s text); nil if it does not read as one.
        init?(recorded text: String) {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            guard let row = try? decoder.decode(Row.self, from: Data(text.utf8)) else { return nil }
            self = row
        }
    }

    public static func run(_ config: AlphabetTransferConfig, communicator comm: any Communicator) throws -> [String: Any] {
        let console = Console(rank: comm.rank)
        let experiment = try ExperimentRun("transfer", config: config, out: config.out, policy: config.runPolicy, communicator: comm)
        guard let loss = config.loss.pairwise else { throw InputError("--loss", "transfer clusters with kcl or mcl") }
        let overlap = Set(config.auxiliaryAlphabets).intersection(config.targetAlphabets)
        guard overlap.isEmpty else { throw InputError("--target-alphabets", "alphabets \(overlap.sorted()) are also auxiliary") }
        let trainsSPN = !config.oracleSimilarity && config.spnCheckpoint == nil
        guard !trainsSPN || !config.auxiliaryAlphabets.isEmpty else { throw InputError("--aux-alphabets", "name the auxiliary alphabets") }
        let (auxiliary, targets) = try comm.checked("loading the image folders") { () -> (AlphabetCollection?, AlphabetCollection) in
            let tree = try DataSource.open(config.root)
            let targets = config.targetAlphabets.isEmpty
                ? try tree.alphabetNames().filter { !config.auxiliaryAlphabets.contains($0) }
                : config.targetAlphabets
            return (trainsSPN ? try tree.alphabets(config.auxiliaryAlphabets) : nil, try tree.alphabets(targets))
        }
        try comm.requireAgreement("the target image count", Int64(targets.dataset.count))
        let log = try experiment.log()
        var summary = Report(k: config.clusters.map(Report.K.clusters) ?? .known, lossKind: config.loss.rawValue,
                             oracleSimilarity: config.oracleSimilarity, targetAlphabets: targets.alphabets.count)
        var spnCheck: SimilarityNetwork.CheckSummary?
        var spn: SimilarityNetwork?
        if let auxiliary {
            console.log("spn: \(auxiliary.alphabets.count) auxiliary alphabets, \(auxiliary.classNames.count) characters, \(auxiliary.dataset.count) images")
            let network = try CrossTask.trainCheckedSimilarityNetwork(auxiliary.dataset, test: nil, architecture: config.model,
                                                                      optimization: config.training.spnOptimization, balance: config.balance, experiment: experiment)
            spnCheck = network.checkSummary
            if let path = try experiment.saveModel("spn.safetensors", tensors: network.stateTensors,
                                                   metadata: TransferExperiment.spnMetadata(network, auxiliary.dataset), reported: false) {
                summary.spnCheckpoint = path
            }
            spn = network
        } else if !config.oracleSimilarity, let path = config.spnCheckpoint {
            spn = try comm.checked("loading the SPN") { try SimilarityNetwork.load(path, communicator: comm) }
        }
        var rows: [Row] = []
        for index in targets.alphabets.indices {
            // Each alphabet is a phase of its own: one finished before the run stopped keeps its scores.
            let phase = "cluster.\(index)"
            if let row = experiment.completedRecord(phase)?["row"].flatMap(Row.init(recorded:)) {
                rows.append(row)
                continue
            }
            let data = targets.alphabet(index)
            let truth = data.classes.count
            let k = config.clusters ?? truth
            var optimization = config.training.clusterOptimization
            optimization.seed = config.training.clusterOptimization.seed &+ UInt64(index)
            let supervision: PairSupervision = spn.map { .network($0, statistics: config.spnStatistics) } ?? .oracle
            let run = try CrossTask.trainClusteringNetwork(data, architecture: config.model, clusters: k, loss: loss,
                                                             supervision: supervision, optimization: optimization, restarts: config.training.restarts, pairing: config.training.neighbours, warmUp: config.training.warmUp,
                                                             phase: phase, experiment: experiment)
            let model = run.model
            let predictions = Evaluation.predict(model, data, communicator: comm)
            let scores = ClusteringMetrics.score(truth: data.labels, predicted: predictions)
            var estimated = ClusterCountEstimate(minimumShare: config.minimumShare).estimate(predictions)
            var row = Row(alphabet: targets.alphabets[index], characters: truth, k: k, acc: JSONLine.round(scores.accuracy),
                          nmi: JSONLine.round(scores.nmi), ari: JSONLine.round(scores.ari), clustersAboveShare: estimated)
            if let spn {
                estimated = ClusterMerging.count(spn, data, assignments: predictions, clusters: k, globalBatch: optimization.globalBatch,
                                                 statistics: config.spnStatistics, minimumShare: config.minimumShare, seed: optimization.seed,
                                                 far: ClusterMerging.farSpace(run, data, communicator: comm), communicator: comm)
                row.spnF1Similar = JSONLine.round(CrossTask.similarityScores(spn, data, globalBatch: optimization.globalBatch,
                                                                                  statistics: config.spnStatistics, seed: optimization.seed,
                                                                                  communicator: comm).f1)
            }
            let health = ClusteringHealth.measure(assignments: predictions, clusters: k, data: data, supervision: supervision,
                                                  globalBatch: optimization.globalBatch, seed: optimization.seed, communicator: comm)
            row.dissimilarPairsTogether = health.record.dissimilarPairsTogether
            if let warning = health.warning { console.log("\(targets.alphabets[index]): \(warning)") }
            let kmeans = CrossTask.kMeansScores(data, clusters: k, seed: optimization.seed)
            row.clustersEstimated = estimated
            row.kmeansAcc = JSONLine.round(kmeans.accuracy)
            console.log(String(format: "%@: %d characters, K=%d: acc %.3f nmi %.3f, %d clusters estimated; k-means acc %.3f",
                               targets.alphabets[index], truth, k, scores.accuracy, scores.nmi, estimated, kmeans.accuracy))
            log.write(row.jsonObject.merging(["phase": "alphabet"]) { mine, _ in mine })
            rows.append(row)
            experiment.complete(phase, record: ["row": JSONLine.encode(row.jsonObject)])
        }
        try experiment.finish()
        func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : JSONLine.round(values.reduce(0, +) / Double(values.count)) }
        (summary.acc, summary.nmi, summary.ari) = (mean(rows.map(\.acc)), mean(rows.map(\.nmi)), mean(rows.map(\.ari)))
        summary.kmeansAcc = mean(rows.map(\.kmeansAcc))
        summary.clustersEstimated = mean(rows.map { Double($0.clustersEstimated) })
        summary.clustersAboveShare = mean(rows.map { Double($0.clustersAboveShare) })
        summary.dissimilarPairsTogether = mean(rows.map(\.dissimilarPairsTogether))
        summary.collapsedAlphabets = rows.filter { $0.dissimilarPairsTogether > ClusteringHealth.collapseThreshold }.count
        summary.clustersTrue = mean(rows.map { Double($0.characters) })
        summary.countError = JSONLine.round(rows.map { abs(Double($0.clustersEstimated - $0.characters)) / Double($0.characters) }.reduce(0, +)
                                            / Double(max(rows.count, 1)))
        summary.spnF1Similar = spn == nil ? nil : mean(rows.compactMap(\.spnF1Similar))
        summary.alphabets = rows
        // No model is saved: each alphabet has a clustering network of its own, scored here.
        return experiment.report(Parts(summary, spnCheck), globalBatch: config.training.clusterOptimization.globalBatch)
    }
}
