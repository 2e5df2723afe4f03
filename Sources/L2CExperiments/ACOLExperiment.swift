import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

public enum ACOLExperiment {
    /// What `l2c acol` reports beside the fine clusters' scores and the keys every command shares.
    public struct Report: Encodable {
        /// Accuracy of the parents' summed probabilities against the coarse labels.
        public var coarseAcc: Double
        public var parents: Int
        public var duplicates: Int
        /// Nodes without positive activity on any training sample.
        public var deadNodes: Int
        public var revivedNodes: Int
        /// The fine clusters scored within each coarse class of the test split.
        public var perParent: [Parts]
        public var loss: Double

        public struct Parent: Encodable {
            public var coarse: Int
            public var samples: Int
        }
    }

    /// Fine labels in `dataset`, coarse label per sample.
    typealias Labelled = (dataset: Dataset, coarse: [Int])

    static func load(_ config: ACOLConfig, split: Split) throws -> Labelled {
        let (dataset, coarse) = try DataSource.open(config.data).loadWithCoarseLabels(split)
        guard let coarse, config.coarseMap == nil else { return try remap(dataset, config) }
        guard config.parents == 20 else { throw InputError("--parents", "CIFAR-100 carries 20 coarse labels; got --parents \(config.parents)") }
        return (dataset, coarse)
    }

    static func remap(_ dataset: Dataset, _ config: ACOLConfig) throws -> Labelled {
        let map = try config.coarseMap.map { try CoarseLabels.read($0, classes: dataset.classes, parents: config.parents) }
            ?? CoarseLabels.blocks(classes: dataset.classes, parents: config.parents)
        return (dataset, try dataset.labels.map { label in
            guard let coarse = map[label] else { throw InputError(dataset.source, "class \(label) has no coarse label in the mapping") }
            return coarse
        })
    }

    public static func run(_ config: ACOLConfig, communicator comm: any Communicator) throws -> [String: Any] {
        let console = Console(rank: comm.rank)
        let experiment = try ExperimentRun("acol", config: config, out: config.out, policy: config.runPolicy, communicator: comm)
        guard config.parents >= 1, config.duplicates >= 1 else { throw InputError("--parents", "parents and duplicates must be at least 1") }
        let (train, test) = try comm.checked("loading data") { (try load(config, split: .train), try load(config, split: .test)) }
        try comm.requireAgreement("the training set size", Int64(train.dataset.count))
        var acol = ACOLGAR(parents: config.parents, duplicates: config.duplicates)
        (acol.c1, acol.c2, acol.c3, acol.c4) = (config.c1, config.c2, config.c3, config.c4)
        let data = train.dataset
        let model = try config.optimization.build(config.model, channels: data.channels, height: data.height, width: data.width, outputs: acol.nodes,
                                                  seed: config.optimization.seed, communicator: comm)
        let output = model.layers.last!.layer as! Linear
        let log = try experiment.log()
        var epochActivity = [Double](repeating: 0, count: acol.nodes)
        var revived = 0
        var phase = Phase("acol", network: model, what: "model's", optimization: config.optimization, sampleCount: data.count)
        // The epoch's node activity and the revival count continue bit for bit on resume.
        phase.save = { ["epoch_activity": epochActivity.map { String($0.bitPattern, radix: 16) }.joined(separator: ","), "revived": "\(revived)"] }
        phase.restore = { saved in
            let bits = saved["epoch_activity"]?.split(separator: ",").compactMap { UInt64($0, radix: 16) } ?? []
            guard bits.count == acol.nodes, let count = saved["revived"].flatMap(Int.init) else {
                throw InputError("--resume", "the state's ACOL node activity does not match \(acol.nodes) nodes")
            }
            epochActivity = bits.map(Double.init(bitPattern:))
            revived = count
        }
        guard let loop = try experiment.begin(phase) else { preconditionFailure("acol keeps no finished phase") }
        console.log("acol: \(config.model.rawValue), \(config.parents) parents × \(config.duplicates) duplicates, c1..c4 = \(config.c1), \(config.c2), \(config.c3), \(config.c4), \(loop.steps) steps\(config.optimization.augmentationNote)")
        let objective = ACOLGARObjective(acol, garWarmup: config.garWarmup)
        let step = Phase.step(model, objective, communicator: comm) { batch in
            (config.optimization.images(data, batch.localIndices, step: batch.step),
             ObjectiveTargets(batch.pass, coarseLabels: batch.localIndices.map { train.coarse[$0] }))
        }
        let (lastLoss, seconds) = try loop.run { batch in
            let loss = try step(batch)
            for j in 0..<acol.nodes { epochActivity[j] += objective.lastTerms.activity[j] }
            if (batch.step + 1) % loop.schedule.batchesPerEpoch == 0 {
                if config.reviveDeadNodes { revived += revive(output, acol: acol, activity: epochActivity, epoch: batch.epoch, seed: config.optimization.seed) }
                epochActivity = [Double](repeating: 0, count: acol.nodes)
            }
            return loss
        }
        try experiment.finish()
        // Scores: fine clusters = argmax node, against fine labels; coarse = argmax of the parent probabilities.
        let outputs = Evaluation.outputs(model, test.dataset, communicator: comm)
        let fine = Evaluation.argmax(outputs)
        let coarsePredicted = Evaluation.argmax(acol.parentProbabilities(outputs))
        let scores = ClusteringMetrics.score(truth: test.dataset.labels, predicted: fine)
        let coarseAccuracy = Evaluation.accuracy(coarsePredicted, test.coarse)
        var perParent: [Parts] = []
        for p in 0..<config.parents {
            let members = test.coarse.indices.filter { test.coarse[$0] == p }
            guard !members.isEmpty else { continue }
            let s = ClusteringMetrics.score(truth: members.map { test.dataset.labels[$0] }, predicted: members.map { fine[$0] })
            perParent.append(Parts(Report.Parent(coarse: p, samples: members.count), ScoreRecord(s)))
        }
        // Dead nodes: no positive activity on any training sample.
        let trainOutputs = Evaluation.outputs(model, data, communicator: comm)
        var activity = [Double](repeating: 0, count: acol.nodes)
        for i in 0..<trainOutputs.count where trainOutputs[i] > 0 { activity[i % acol.nodes] += Double(trainOutputs[i]) }
        let dead = activity.filter { $0 == 0 }.count
        console.log(String(format: "test: fine acc %.4f nmi %.4f ari %.4f, coarse acc %.4f, %d dead nodes%@", scores.accuracy, scores.nmi, scores.ari,
                           coarseAccuracy, dead, config.reviveDeadNodes ? ", \(revived) revivals" : ""))
        let globalBatch = config.optimization.globalBatch
        let result = Parts(Report(coarseAcc: JSONLine.round(coarseAccuracy), parents: config.parents, duplicates: config.duplicates, deadNodes: dead,
                                   revivedNodes: revived, perParent: perParent, loss: JSONLine.round(lastLoss)),
                           ScoreRecord(scores), ThroughputRecord(steps: loop.steps, imagesPerStep: globalBatch, seconds: seconds))
        log.write(experiment.report(result, globalBatch: globalBatch).merging(["phase": "result"]) { mine, _ in mine })
        try experiment.saveModel(tensors: model.stateTensors, metadata: ModelCard(
            architecture: config.model, outputs: acol.nodes, channels: data.channels, height: data.height, width: data.width, loss: "acol-gar",
            extra: ["parents": "\(config.parents)", "duplicates": "\(config.duplicates)"]).metadata)
        return experiment.report(result, globalBatch: globalBatch)
    }

    /// Re-seeds each node without positive activity this epoch from the most active node of its parent:
    /// its weight row and bias, plus a little noise (deterministic from the seed), so that it competes again.
    static func revive(_ output: Linear, acol: ACOLGAR, activity: [Double], epoch: Int, seed: UInt64) -> Int {
        var rng = RandomGenerator(seed: seed, stream: 0xDEAD &+ UInt64(epoch))
        let width = output.inFeatures
        var count = 0
        for node in 0..<acol.nodes where activity[node] == 0 {
            let siblings = (0..<acol.nodes).filter { acol.parentOfNode[$0] == acol.parentOfNode[node] && activity[$0] > 0 }
            guard let donor = siblings.max(by: { activity[$0] < activity[$1] }) else { continue }
            let w = output.weight.value.data
            let scale = output.weight.value.maxAbs * 0.05
            for c in 0..<width { w[node * width + c] = w[donor * width + c] + scale * rng.normal() }
            if let bias = output.bias { bias.value[node] = bias.value[donor] }
            count += 1
        }
        return count
    }
}
