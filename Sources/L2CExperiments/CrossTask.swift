import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// Where a clustering network's pair supervision comes from.
public enum PairSupervision {
    /// The true labels of the target data (`--oracle-similarity`): separates clustering quality from SPN quality.
    case oracle
    /// A frozen similarity network's binarised predictions on the pairs of each global batch.
    case network(SimilarityNetwork, statistics: SPNHead.Statistics)
}

/// The pieces of the L2C cross-task protocol: a similarity network learnt on labelled auxiliary classes,
/// a clustering network trained on unlabelled target classes from its predicted pairs, and their scores.
public enum CrossTask {
    /// The default length of the similarity and clustering networks' training when neither --steps nor --epochs
    /// is given: at least this many steps (and the command's default epochs). Chosen by measurement on a
    /// 20 + 20-class set of 10 images each (README, "Defaults").
    public static let stepBudget = 200

    // MARK: the similarity network

    /// A similarity network on `data`, checked on held-out data (`SimilarityCheck.split`). With held-out classes,
    /// it first learns the others under the check (phase "spn.check"), which finds the best length; then it learns
    /// all of `data` for that length, scaled to the whole set (phase "spn"), so that no auxiliary class is lost
    /// to the check.
    public static func trainCheckedSimilarityNetwork(_ data: Dataset, test: Dataset?, architecture: Architecture, optimization: Optimization,
                                                     balance: ClassBalance? = nil, initialWeights: String? = nil,
                                                     experiment: ExperimentRun) throws -> SimilarityNetwork {
        let (learnt, heldOut) = SimilarityCheck.split(data, test: test, seed: optimization.seed)
        guard let heldOut, learnt.count < data.count else {
            return try trainSimilarityNetwork(data, architecture: architecture, optimization: optimization, balance: balance,
                                              initialWeights: initialWeights, heldOut: heldOut, experiment: experiment)
        }
        // Class-balanced batches of the check take at most the classes it learns (and stay divisible by the ranks).
        var (checkBalance, checkOptimization) = (balance, optimization)
        if let b = balance, learnt.classes.count < b.classes {
            var classes = learnt.classes.count
            while classes > 2 && (classes * b.samples) % experiment.communicator.size != 0 { classes -= 1 }
            (checkBalance, checkOptimization.globalBatch) = (ClassBalance(classes: classes, samples: b.samples), classes * b.samples)
        }
        let checked = try trainSimilarityNetwork(learnt, architecture: architecture, optimization: checkOptimization, balance: checkBalance,
                                                 initialWeights: initialWeights, heldOut: heldOut, phase: "spn.check", experiment: experiment)
        // The best state's length, scaled to the whole set; the whole set's own plan when the best was the last.
        var whole = optimization
        let bestStep = checked.heldOutStep ?? checked.trainedSteps
        if bestStep < checked.trainedSteps {
            whole.steps = max(1, Int((Double(bestStep) * Double(data.count) / Double(learnt.count)).rounded()))
        }
        experiment.console.log("spn: the best state came at step \(bestStep) of \(checked.trainedSteps) of the check; learning all \(data.classes.count) classes"
                                                     + (whole.steps.map { " for \($0) steps" } ?? " for the planned length"))
        let network = try trainSimilarityNetwork(data, architecture: architecture, optimization: whole, balance: balance,
                                                 initialWeights: initialWeights, experiment: experiment)
        network.heldOutScore = checked.heldOutScore
        network.heldOutStep = checked.heldOutStep
        experiment.complete(network.phase("spn", optimization: whole, sampleCount: data.count), record: network.checkRecord)
        return network
    }

    /// Trains a similarity network on `data` with "same class" pair targets over each global batch (the
    /// run's `phase`; a run resumed after it restores the finished network instead).
    /// `balance` draws class-balanced batches, as L2C does for many classes.
    /// `heldOut`: labelled data the network does not learn from, scored about 20 times while it trains, a weak
    /// best score warned about. When its classes are unseen ones (as the target's will be), the best state is
    /// kept. (The threshold that maximises F1 there is reported, not used: it depends on the share of similar
    /// pairs, which a few held-out classes do not share with the target; measured in the README.) Held-out samples of the
    /// training classes only report: tuned on them, the network would fit the known classes, not unseen ones
    /// (measured on MNIST-5k: README, "Defaults").
    public static func trainSimilarityNetwork(_ data: Dataset, architecture: Architecture, optimization: Optimization,
                                              balance: ClassBalance? = nil, initialWeights: String? = nil,
                                              heldOut: Dataset? = nil, phase name: String = "spn", experiment: ExperimentRun) throws -> SimilarityNetwork {
        let comm = experiment.communicator
        let console = experiment.console
        let network = SimilarityNetwork(architecture: architecture, channels: data.channels, height: data.height, width: data.width,
                                        seed: optimization.seed, precision: try optimization.resolvedPrecision(architecture, communicator: comm),
                                        communicator: optimization.batchNormCommunicator(comm))
        optimization.initialise(network.backbone)
        if let path = initialWeights {
            let report = try comm.checked("loading --init into the SPN") {
                try PretrainedWeights.load(path, into: network.backbone.stateTensors, skippingHead: architecture.outputLayerName)
            }
            console.log("spn init: \(path): \(report.summary)")
        }
        let schedule = try balance.map { b in
            try comm.checked("setting up the class-balanced sampler") {
                try BalancedClassSampler(labels: data.labels, classesPerBatch: b.classes, samplesPerClass: b.samples, seed: optimization.seed)
            }
        }
        let check = heldOut.map { SimilarityCheck(heldOut: $0, globalBatch: optimization.globalBatch, ranks: comm.size, seed: optimization.seed &+ 0x43) }
        let selects = heldOut.map { Set($0.classes).isDisjoint(with: data.classes) } ?? false
        // The best state so far and its score, in the training state too (a resumed run keeps the same best).
        let bestTensors = !selects ? [] : network.stateTensors.map { (name: "best.\($0.name)", tensor: Tensor(shape: $0.tensor.shape)) }
        var best: (score: SimilarityCheck.Score, step: Int)?
        var phase = network.phase(name, optimization: optimization, sampleCount: data.count, schedule: schedule)
        phase.stateTensors = bestTensors
        phase.save = { best.map { ["spn.best": SimilarityNetwork.encode($0.score, step: $0.step)] } ?? [:] }
        phase.restore = { strings in best = strings["spn.best"].flatMap(SimilarityNetwork.parseScore) }
        guard let loop = try experiment.begin(phase) else {
            network.restoreCheck(from: experiment.completedRecord(name) ?? [:])
            return network
        }
        console.log("spn: \(architecture.rawValue) + pair head on \(data.count) samples of \(data.classes.count) classes, \(loop.steps) steps\(optimization.lengthReason(batchesPerEpoch: loop.schedule.batchesPerEpoch))\(optimization.augmentationNote)"
                    + (heldOut.map { ", checked on \($0.count) held-out samples of \($0.classes.count) classes" } ?? ""))
        let log = try experiment.log()
        let interval = max(loop.schedule.batchesPerEpoch, (loop.steps + 19) / 20)
        func consider(step: Int) {
            guard let check else { return }
            let score = check.score(network, communicator: comm)
            log.write(["phase": "spn-check", "step": step, "heldout_f1_at_decision": JSONLine.round(score.usedF1), "heldout_precision": JSONLine.round(score.precision), "heldout_recall": JSONLine.round(score.recall),
                       "heldout_f1": JSONLine.round(score.f1), "threshold": JSONLine.round(score.threshold)])
            console.log(String(format: "spn check at step %d: held-out F1 %.3f at p = 0.5; best %.3f (precision %.3f, recall %.3f) at p = %.3f; every pair similar: %.3f",
                               step, score.usedF1, score.f1, score.precision, score.recall, score.threshold, score.baseline))
            // By the best-threshold F1 (how well it ranks pairs: at p = 0.5 an untrained network can score more), ties to
            // the later state (a few held-out classes can score F1 1 early).
            guard best == nil || score.f1 >= best!.score.f1 else { return }
            best = (score, step)
            for (source, copy) in zip(network.stateTensors, bestTensors) { copy.tensor.copy(from: source.tensor) }
        }
        _ = try loop.run { batch in
            if batch.step > 0, batch.step % interval == 0 { consider(step: batch.step) }
            let similarity = LabelSimilarity(labels: batch.globalIndices.map { data.labels[$0] })
            let input = optimization.images(data, batch.localIndices, step: batch.step)
            batch.timer.lap(.input)
            return network.trainStep(input, similarity: similarity, pass: batch.pass, communicator: comm, timer: batch.timer)
        }
        consider(step: loop.steps)
        network.trainedSteps = loop.steps
        if let best {
            if selects {
                for (target, copy) in zip(network.stateTensors, bestTensors) { target.tensor.copy(from: copy.tensor) }
                console.log(String(format: "spn: kept the state of step %d, held-out F1 %.3f at p = 0.5 (best %.3f at p = %.3f)",
                                   best.step, best.score.usedF1, best.score.f1, best.score.threshold))
            }
            network.heldOutScore = best.score
            network.heldOutStep = best.step
            if let warning = SimilarityCheck.warning(best.score) { console.log(warning) }
        }
        experiment.complete(phase, record: network.checkRecord)
        return network
    }

    // MARK: the clustering network

    /// Trains a clustering network with K outputs on `data` (labels unused unless `supervision` is `.oracle`),
    /// as the run's phase `phase`. With more than one of `restarts`, the candidates' trials come first
    /// (phases `<phase>.trial<r>`), and the one with the lowest trial loss trains for the whole run.
    public static func trainClusteringNetwork(_ data: Dataset, architecture: Architecture, clusters: Int, loss: any PairwiseLoss,
                                              supervision: PairSupervision, optimization: Optimization, restarts: ClusteringRestarts = ClusteringRestarts(count: 1),
                                              pairing: NeighbourPairing = .off, warmUp: ContrastiveWarmUp = .off,
                                              phase name: String = "cluster", experiment: ExperimentRun) throws -> ClusteringRun {
        let comm = experiment.communicator
        let backbone = warmUp.steps > 0
            ? try warmUpBackbone(data, architecture: architecture, warmUp: warmUp, optimization: optimization, phase: "\(name).warm-up", experiment: experiment)
            : nil
        let geometry = targetGeometry(data, clusters: clusters, supervision: supervision, pairing: pairing, warmedUp: backbone, communicator: comm)
        let (candidate, criteria) = restarts.count > 1
            ? try chooseInitialisation(data, architecture: architecture, clusters: clusters, loss: loss, supervision: supervision,
                                       geometry: geometry, backbone: backbone, optimization: optimization, restarts: restarts, phase: name, experiment: experiment)
            : (0, [])
        let model = try buildClusteringNetwork(data, architecture: architecture, clusters: clusters, optimization: optimization,
                                               seed: ClusteringRestarts.initialisationSeed(runSeed: optimization.seed, candidate: candidate),
                                               backbone: backbone, communicator: comm)
        let phase = Phase(name, label: "cluster", network: model, what: "clustering network's", optimization: optimization, sampleCount: data.count)
        guard let loop = try experiment.begin(phase) else { preconditionFailure("a clustering phase keeps no finished result") }
        experiment.console.log("cluster: \(architecture.rawValue), K=\(clusters), \(data.count) unlabelled samples, \(loop.steps) steps\(optimization.lengthReason(batchesPerEpoch: loop.schedule.batchesPerEpoch))\(optimization.augmentationNote)")
        let (_, seconds) = try loop.run(clusteringStep(model, data, loss: loss, supervision: supervision, geometry: geometry, optimization: optimization, communicator: comm))
        return ClusteringRun(model: model, steps: loop.steps, seconds: seconds, chosenInitialisation: candidate, trialLosses: criteria,
                             geometry: geometry, warmUp: backbone.map { (warmUp.steps, $0) })
    }

    /// With `restarts` tried (runs long enough), each candidate's trial as phase `<phase>.trial<r>` and the one with the
    /// lowest trial loss; otherwise candidate 0 and no trial losses.
    static func chooseInitialisation(_ data: Dataset, architecture: Architecture, clusters: Int, loss: any PairwiseLoss,
                                     supervision: PairSupervision, geometry: TargetGeometry?, backbone: Sequential?, optimization: Optimization, restarts: ClusteringRestarts,
                                     phase: String, experiment: ExperimentRun) throws -> (candidate: Int, criteria: [Double]) {
        let comm = experiment.communicator
        let console = experiment.console
        let sampler = try comm.checked("setting up the sampler") { try optimization.sampler(sampleCount: data.count, communicator: comm) }
        let totalSteps = try optimization.plannedSteps(batchesPerEpoch: sampler.batchesPerEpoch)
        guard restarts.tries(totalSteps: totalSteps) else {
            console.log("cluster: one initialisation: \(totalSteps) steps are fewer than the \(ClusteringRestarts.minimumSteps) that --restarts needs")
            return (0, [])
        }
        let trialSteps = ClusteringRestarts.trialSteps(totalSteps: totalSteps)
        var criteria: [Double] = []
        for r in 0..<restarts.count {
            let trialPhase = "\(phase).trial\(r)"
            if let value = experiment.completedRecord(trialPhase)?["trial.loss"].flatMap(Double.init) {
                criteria.append(value)
                continue
            }
            var trial = optimization
            trial.steps = trialSteps
            let model = try buildClusteringNetwork(data, architecture: architecture, clusters: clusters, optimization: optimization,
                                                   seed: ClusteringRestarts.initialisationSeed(runSeed: optimization.seed, candidate: r), backbone: backbone,
                                                   communicator: comm)
            var (sum, counted) = (0.0, 0)
            var spec = Phase(trialPhase, label: "cluster.trial\(r)", network: model, what: "clustering network's", optimization: trial, sampleCount: data.count)
            spec.save = { ["trial.sum": "\(sum)", "trial.count": "\(counted)"] }
            spec.restore = { sum = $0["trial.sum"].flatMap(Double.init) ?? 0; counted = $0["trial.count"].flatMap(Int.init) ?? 0 }
            guard let loop = try experiment.begin(spec) else { preconditionFailure("a trial keeps no finished result") }
            let step = clusteringStep(model, data, loss: loss, supervision: supervision, geometry: geometry, optimization: optimization, communicator: comm)
            _ = try loop.run { batch in
                let value = try step(batch)
                if ClusteringRestarts.countsTowardsCriterion(step: batch.step, trialSteps: trialSteps) { (sum, counted) = (sum + value, counted + 1) }
                return value
            }
            // Rank 0's mean decides (every rank computes the same global losses; this makes sure they agree).
            let value = Double(comm.broadcast("\(sum / Double(max(counted, 1)))")) ?? .infinity
            criteria.append(value)
            experiment.complete(spec, record: ["trial.loss": "\(value)"])
            console.log(String(format: "cluster: initialisation %d of %d, mean loss %.5f over trial steps %d–%d", r + 1, restarts.count, value,
                               trialSteps / 2 + 1, trialSteps))
        }
        let candidate = ClusteringRestarts.best(criteria)
        try experiment.log().write(["phase": "cluster-restarts", "trial_steps": trialSteps, "trial_losses": criteria.map { JSONLine.round($0) }, "chosen": candidate + 1])
        console.log("cluster: keeping initialisation \(candidate + 1) of \(restarts.count) (lowest trial loss); it trains for the whole run")
        return (candidate, criteria)
    }

    /// A clustering network with K outputs, initialised from `seed` (its backbone from `backbone`'s when given).
    static func buildClusteringNetwork(_ data: Dataset, architecture: Architecture, clusters: Int, optimization: Optimization, seed: UInt64,
                                       backbone: Sequential? = nil, communicator: any Communicator) throws -> Sequential {
        let model = try optimization.build(architecture, channels: data.channels, height: data.height, width: data.width, outputs: clusters,
                                           seed: seed, communicator: communicator)
        if let backbone { startFromBackbone(model, of: backbone, architecture: architecture) }
        return model
    }

    /// The target's geometry laid over the SPN's pairs (SPN supervision only; nil with `.oracle`).
    /// After a warm-up it is that of the warmed-up backbone's features by their cosine: the neighbours, and far pairs
    /// below the median cosine. Without, that of the pixels by the cosine of the centred rows: the neighbours only.
    static func targetGeometry(_ data: Dataset, clusters: Int, supervision: PairSupervision, pairing: NeighbourPairing, warmedUp: Sequential?,
                               communicator comm: any Communicator) -> TargetGeometry? {
        guard case .network = supervision else { return nil }
        let k = pairing.neighbours(samples: data.count, clusters: clusters)
        let console = Console(rank: comm.rank)
        let start = Date()
        guard let warmedUp else {
            guard k > 0 else { return nil }
            let table = NeighbourTable(points: data.images, count: data.count, dimension: data.sampleSize, k: k, communicator: comm)
            console.log(String(format: "cluster: the %d nearest neighbours of each of %d samples (cosine of the centred pixels) in %.1f s; each batch pairs its first half with one of theirs, called similar",
                               k, data.count, Date().timeIntervalSince(start)))
            return TargetGeometry(neighbours: table, far: nil)
        }
        let features = FeatureExtraction.features(warmedUp.trunk, data, communicator: comm)
        let unit = NeighbourTable.unitRows(features.values, count: data.count, dimension: features.width, centred: false)
        let table = k > 0 ? NeighbourTable(points: unit, count: data.count, dimension: features.width, k: k, centred: false, communicator: comm) : nil
        let far = data.count > 1 ? FarPairs.Space(medianOf: unit, dimension: features.width) : nil
        let similar = k > 0 ? "each one's \(k) nearest neighbours called similar (each batch pairs its first half with one of theirs), " : ""
        console.log("cluster: the warmed-up features of \(data.count) samples by their cosine: \(similar)pairs below cosine "
                    + String(format: "%.3f (the median pair's) called dissimilar; %.1f s", far?.farCosine ?? .nan, Date().timeIntervalSince(start)))
        return TargetGeometry(neighbours: table, far: far)
    }

    /// One step of a clustering network: the pair targets (the SPN's predictions, or the labels), forward, the
    /// pairwise loss over the global batch, backward. Returns the global loss. With a `geometry`, the batch pairs
    /// its first half with their neighbours, and the target's geometry overrides the SPN on the pairs it is sure of.
    static func clusteringStep(_ model: Sequential, _ data: Dataset, loss: any PairwiseLoss, supervision: PairSupervision,
                               geometry: TargetGeometry? = nil, optimization: Optimization, communicator comm: any Communicator) -> (StepBatch) throws -> Double {
        Phase.step(model, PairwiseObjective(loss), communicator: comm) { batch in
            let global = geometry?.batch(batch.globalIndices, step: batch.step, seed: optimization.seed) ?? Array(batch.globalIndices)
            let input = optimization.images(data, comm.share(of: global), step: batch.step)
            batch.timer.lap(.input)
            var similarity: any PairSimilarity
            switch supervision {
            case .oracle: similarity = LabelSimilarity(labels: global.map { data.labels[$0] })
            case .network(let spn, let statistics):
                similarity = spn.head.predictedSimilarity(spn.pairTerms(input, statistics: statistics, communicator: comm))
            }
            if let geometry { similarity = geometry.pairs(over: similarity, samples: global) }
            batch.timer.lap(.loss)   // the pair targets: the SPN's predictions
            return (input, ObjectiveTargets(batch.pass, similarity: similarity))
        }
    }

    // MARK: scores

    /// Calls `body(a, b, similar)` for the ordered pairs (a ≠ b) of samples inside the global batches of a seeded
    /// shuffle of `data` whose outer sample belongs to this rank, with the network's prediction for the pair.
    /// Batches are formed as in training: with batch statistics the prediction depends on the batch, and data
    /// files are often sorted by class.
    static func forEachPredictedPair(_ network: SimilarityNetwork, _ data: Dataset, globalBatch: Int, statistics: SPNHead.Statistics,
                                     seed: UInt64, communicator comm: any Communicator, _ body: (Int, Int, Bool) -> Void) {
        let margin = network.head.decisionMargin
        forEachPairMargin(network, data, globalBatch: globalBatch, statistics: statistics, seed: seed, communicator: comm) { a, b, m in
            body(a, b, m > margin)
        }
    }

    /// The same pairs with the head's log-odds of "similar", logit(similar) − logit(dissimilar).
    static func forEachPairMargin(_ network: SimilarityNetwork, _ data: Dataset, globalBatch: Int, statistics: SPNHead.Statistics,
                                  seed: UInt64, communicator comm: any Communicator, _ body: (Int, Int, Float) -> Void) {
        let local = globalBatch / comm.size
        var rng = RandomGenerator(seed: seed, stream: 0x5343_4F52)
        let order = rng.permutation(data.count)
        var margins = [Float](repeating: 0, count: local * globalBatch)
        for start in stride(from: 0, through: data.count - globalBatch, by: globalBatch) {
            let batch = Array(order[start..<(start + globalBatch)])
            let terms = network.pairTerms(data.batch(comm.share(of: batch)), statistics: statistics, communicator: comm)
            margins.withUnsafeMutableBufferPointer {
                network.head.margins(terms, rows: terms.firstRow..<(terms.firstRow + local), into: $0.baseAddress!)
            }
            for r in 0..<local {
                let i = terms.firstRow + r
                for j in 0..<globalBatch where j != i { body(batch[i], batch[j], margins[r * globalBatch + j]) }
            }
        }
    }

    /// Precision, recall and F1 of the network's "similar" predictions against the labels, over the pairs
    /// of `forEachPredictedPair`.
    public static func similarityScores(_ network: SimilarityNetwork, _ data: Dataset, globalBatch: Int, statistics: SPNHead.Statistics,
                                        seed: UInt64, communicator comm: any Communicator) -> (precision: Double, recall: Double, f1: Double) {
        var counts = [0.0, 0.0, 0.0]   // true positives, false positives, false negatives
        forEachPredictedPair(network, data, globalBatch: globalBatch, statistics: statistics, seed: seed, communicator: comm) { a, b, saysSame in
            let same = data.labels[a] == data.labels[b]
            if saysSame && same { counts[0] += 1 } else if saysSame { counts[1] += 1 } else if same { counts[2] += 1 }
        }
        counts.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 3) }
        let precision = counts[0] / max(counts[0] + counts[1], 1), recall = counts[0] / max(counts[0] + counts[2], 1)
        return (precision, recall, precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0)
    }

    /// K-means on a backbone's features (running BatchNorm statistics), scored like the networks. `cosine` scales each
    /// sample's features to unit length first, for features learnt by comparing cosines (the contrastive warm-up's).
    public static func kMeansOnFeatures(_ backbone: Sequential, _ data: Dataset, clusters: Int, seed: UInt64, cosine: Bool = false) -> ClusteringScores {
        var (features, width) = FeatureExtraction.features(backbone, data)
        if cosine { features = NeighbourTable.unitRows(features, count: data.count, dimension: width, centred: false) }
        let assignment = KMeans(clusters: clusters, restarts: 5, seed: seed).fit(Tensor(shape: [data.count, width], values: features))
        return ClusteringMetrics.score(truth: data.labels, predicted: assignment)
    }

    /// K-means on the raw pixels, scored like the networks.
    public static func kMeansScores(_ data: Dataset, clusters: Int, seed: UInt64) -> ClusteringScores {
        let points = Tensor(shape: [data.count, data.sampleSize], values: data.images)
        let assignment = KMeans(clusters: clusters, restarts: 5, seed: seed).fit(points)
        return ClusteringMetrics.score(truth: data.labels, predicted: assignment)
    }
}

extension Dataset {
    /// The samples of `classes`, failing with a message that names classes the data does not have.
    public func restricted(to classes: [Int], option: String) throws -> Dataset {
        let present = Set(labels)
        let missing = classes.filter { !present.contains($0) }
        guard missing.isEmpty else {
            throw InputError(option, "class(es) \(missing) not in \(source), which has classes \(self.classes)")
        }
        return filter(labels: Set(classes))
    }
}
