import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

public enum AlphabetTransfer {
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
        var summary: [String: Any] = ["k": config.clusters.map { $0 as Any } ?? "known", "loss_kind": config.loss.rawValue,
                                      "oracle_similarity": config.oracleSimilarity, "target_alphabets": targets.alphabets.count]
        var spn: SimilarityNetwork?
        if let auxiliary {
            console.log("spn: \(auxiliary.alphabets.count) auxiliary alphabets, \(auxiliary.classNames.count) characters, \(auxiliary.dataset.count) images")
            let network = try CrossTask.trainCheckedSimilarityNetwork(auxiliary.dataset, test: nil, architecture: config.model,
                                                                      optimization: config.training.spnOptimization, balance: (config.balance.classes, config.balance.samples), experiment: experiment)
            summary.merge(network.checkSummary) { mine, _ in mine }
            if let path = try experiment.saveModel("spn.safetensors", tensors: network.stateTensors,
                                                   metadata: TransferExperiment.spnMetadata(network, auxiliary.dataset), reported: false) {
                summary["spn_checkpoint"] = path
            }
            spn = network
        } else if !config.oracleSimilarity, let path = config.spnCheckpoint {
            spn = try comm.checked("loading the SPN") { try SimilarityNetwork.load(path, communicator: comm) }
        }
        var rows: [[String: Any]] = []
        for index in targets.alphabets.indices {
            // Each alphabet is a phase of its own: one finished before the run stopped keeps its scores.
            let phase = "cluster.\(index)"
            if let row = experiment.completedRecord(phase)?["row"].flatMap({ try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }) {
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
            var row: [String: Any] = ["alphabet": targets.alphabets[index], "characters": truth, "k": k,
                                      "acc": JSONLine.round(scores.accuracy), "nmi": JSONLine.round(scores.nmi), "ari": JSONLine.round(scores.ari),
                                      "clusters_above_share": estimated]
            if let spn {
                estimated = ClusterMerging.count(spn, data, assignments: predictions, clusters: k, globalBatch: optimization.globalBatch,
                                                 statistics: config.spnStatistics, minimumShare: config.minimumShare, seed: optimization.seed,
                                                 far: ClusterMerging.farSpace(run, data, communicator: comm), communicator: comm)
                row["spn_f1_similar"] = JSONLine.round(CrossTask.similarityScores(spn, data, globalBatch: optimization.globalBatch,
                                                                                  statistics: config.spnStatistics, seed: optimization.seed,
                                                                                  communicator: comm).f1)
            }
            let health = ClusteringHealth.measure(assignments: predictions, clusters: k, data: data, supervision: supervision,
                                                  globalBatch: optimization.globalBatch, seed: optimization.seed, communicator: comm)
            row["dissimilar_pairs_together"] = health.record["dissimilar_pairs_together"]
            if let warning = health.warning { console.log("\(targets.alphabets[index]): \(warning)") }
            let kmeans = CrossTask.kMeansScores(data, clusters: k, seed: optimization.seed)
            row["clusters_estimated"] = estimated
            row["kmeans_acc"] = JSONLine.round(kmeans.accuracy)
            console.log(String(format: "%@: %d characters, K=%d: acc %.3f nmi %.3f, %d clusters estimated; k-means acc %.3f",
                               targets.alphabets[index], truth, k, scores.accuracy, scores.nmi, estimated, kmeans.accuracy))
            log.write(row.merging(["phase": "alphabet"]) { mine, _ in mine })
            rows.append(row)
            experiment.complete(phase, record: ["row": JSONLine.encode(row)])
        }
        try experiment.finish()
        func mean(_ key: String) -> Double {
            let values = rows.compactMap { ($0[key] as? Double) ?? ($0[key] as? Int).map(Double.init) }
            return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        }
        for key in ["acc", "nmi", "ari", "kmeans_acc", "clusters_estimated", "clusters_above_share", "dissimilar_pairs_together"] {
            summary[key] = JSONLine.round(mean(key))
        }
        summary["collapsed_alphabets"] = rows.filter { ($0["dissimilar_pairs_together"] as? Double ?? 0) > ClusteringHealth.collapseThreshold }.count
        summary["clusters_true"] = JSONLine.round(mean("characters"))
        summary["count_error"] = JSONLine.round(rows.map { abs(Double($0["clusters_estimated"] as! Int) - Double($0["characters"] as! Int)) / Double($0["characters"] as! Int) }
            .reduce(0, +) / Double(max(rows.count, 1)))
        summary["spn_f1_similar"] = spn == nil ? NSNull() : JSONLine.round(mean("spn_f1_similar"))
        summary["alphabets"] = rows
        // No model is saved: each alphabet has a clustering network of its own, scored here.
        return experiment.report(summary, globalBatch: config.training.clusterOptimization.globalBatch)
    }
}
