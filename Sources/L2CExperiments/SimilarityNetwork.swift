import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// The similarity prediction network: a backbone and the L2C pair head on its features.
public final class SimilarityNetwork {
    public let architecture: Architecture
    public let backbone: Sequential
    public let head: SPNHead
    public let inputShape: [Int]
    /// Its best score on held-out classes while it trained (nil when nothing was held out).
    public internal(set) var heldOutScore: SimilarityCheck.Score?
    /// The step of that score.
    public internal(set) var heldOutStep: Int?
    /// Steps of its training loop (in this run).
    public internal(set) var trainedSteps = 0

    public init(architecture: Architecture, channels: Int, height: Int, width: Int, seed: UInt64, precision: Precision = .fp32,
                communicator: (any Communicator)?) {
        self.architecture = architecture
        inputShape = [channels, height, width]
        var rng = RandomGenerator(seed: seed, stream: 0x5350_4E)
        let (network, features) = architecture.backbone(channels: channels, height: height, width: width, precision: precision, rng: &rng,
                                                        communicator: communicator)
        backbone = network
        head = SPNHead(features: features, rng: &rng)
    }

    public var parameters: [(name: String, parameter: Parameter)] {
        backbone.parameters.map { (name: "backbone.\($0.name)", parameter: $0.parameter) }
            + head.parameters.map { (name: "head.\($0.name)", parameter: $0.parameter) }
    }

    public var stateTensors: [(name: String, tensor: Tensor)] {
        backbone.stateTensors.map { (name: "backbone.\($0.name)", tensor: $0.tensor) }
            + parameters.filter { $0.name.hasPrefix("head.") }.map { (name: $0.name, tensor: $0.parameter.value) }
            + head.buffers.map { (name: "head.\($0.name)", tensor: $0.tensor) }
    }

    /// A phase that trains this network (backbone and pair head); later phases use it, so it keeps its result.
    func phase(_ name: String, optimization: Optimization, sampleCount: Int, schedule: (any BatchSchedule)? = nil) -> Phase {
        var phase = Phase(name, label: "spn", network: backbone, what: "SPN's", optimization: optimization, sampleCount: sampleCount, schedule: schedule)
        phase.tensors = { [self] in stateTensors }
        phase.parameters = parameters
        phase.keepsResult = true
        return phase
    }

    /// Rebuilds a similarity network saved by `l2c train-spn` or `l2c transfer`.
    public static func load(_ path: String, communicator: any Communicator) throws -> SimilarityNetwork {
        let contents = try Checkpoint.load(path)
        let meta = contents.metadata
        guard meta["format"] == "l2c-spn-1" else {
            throw InputError(path, "metadata 'format': expected l2c-spn-1 (a similarity network), found \(meta["format"] ?? "nothing")")
        }
        guard let architecture = meta["model"].flatMap(Architecture.init(rawValue:)) else {
            throw InputError(path, "metadata 'model': expected one of \(Architecture.allCases.map(\.rawValue)), found \(meta["model"] ?? "nothing")")
        }
        func field(_ key: String) throws -> Int {
            guard let value = meta[key].flatMap(Int.init), value > 0 else { throw InputError(path, "metadata '\(key)': expected a positive integer") }
            return value
        }
        let network = SimilarityNetwork(architecture: architecture, channels: try field("channels"), height: try field("height"),
                                        width: try field("width"), seed: 0, communicator: communicator)
        try Checkpoint.restore(contents, into: network.stateTensors, path: path)
        if let margin = meta["decision_margin"] {
            guard let value = Float(margin), value.isFinite else { throw InputError(path, "metadata 'decision_margin': expected a number, found \(margin)") }
            network.head.decisionMargin = value
        }
        return network
    }

    /// What a checkpoint's metadata says of the decision threshold and the held-out score.
    var checkMetadata: [String: String] {
        var meta = ["decision_margin": "\(head.decisionMargin)", "similarity_threshold": String(format: "%.4f", threshold)]
        if let score = heldOutScore { meta["heldout_f1"] = String(format: "%.4f", score.usedF1) }
        return meta
    }

    /// The held-out score as a finished phase's record, and back.
    var checkRecord: [String: String] {
        (heldOutScore.map { ["spn.best": Self.encode($0, step: heldOutStep ?? 0)] } ?? [:])
            .merging(["spn.margin": "\(head.decisionMargin)", "spn.steps": "\(trainedSteps)"]) { a, _ in a }
    }

    func restoreCheck(from record: [String: String]) {
        let best = record["spn.best"].flatMap(Self.parseScore)
        (heldOutScore, heldOutStep) = (best?.score, best?.step)
        head.decisionMargin = record["spn.margin"].flatMap(Float.init) ?? 0
        trainedSteps = record["spn.steps"].flatMap(Int.init) ?? 0
    }

    /// The probability threshold on p(similar) the head decides with: 1/(1 + e^(−margin)).
    public var threshold: Double { SimilarityCheck.probability(margin: head.decisionMargin) }

    /// "step margin precision recall f1 baseline usedF1" ↔ the score and its step.
    static func encode(_ score: SimilarityCheck.Score, step: Int) -> String {
        "\(step) \(score.margin) \(score.precision) \(score.recall) \(score.f1) \(score.baseline) \(score.usedF1)"
    }

    static func parseScore(_ text: String) -> (score: SimilarityCheck.Score, step: Int)? {
        let fields = text.split(separator: " ")
        guard fields.count == 7, let step = Int(fields[0]), let margin = Float(fields[1]) else { return nil }
        let values = fields[2...].compactMap { Double($0) }
        guard values.count == 5 else { return nil }
        return (SimilarityCheck.Score(margin: margin, precision: values[0], recall: values[1], f1: values[2], baseline: values[3], usedF1: values[4]), step)
    }

    /// For JSON summaries: the held-out F1 and the threshold on p(similar) the network uses.
    public var checkSummary: CheckSummary {
        CheckSummary(spnHeldoutF1: heldOutScore.map { JSONLine.round($0.usedF1) }, spnHeldoutBestF1: heldOutScore.map { JSONLine.round($0.f1) },
                     spnHeldoutBestThreshold: heldOutScore.map { JSONLine.round($0.threshold) }, spnThreshold: JSONLine.round(threshold))
    }

    /// The held-out check for a JSON line: F1 at the decision threshold, the best F1 and its threshold (null without a
    /// check), and the threshold in use.
    public struct CheckSummary: Encodable {
        @Nullable public var spnHeldoutF1: Double?
        @Nullable public var spnHeldoutBestF1: Double?
        @Nullable public var spnHeldoutBestThreshold: Double?
        public var spnThreshold: Double
    }

    /// Forward and backward over all pairs of the global batch; returns the global loss.
    public func trainStep(_ input: Tensor, similarity: any PairSimilarity, pass: Pass, communicator: any Communicator,
                          timer: StepTimer = StepTimer()) -> Double {
        let features = backbone.forward(input, pass)
        timer.lap(.forward)
        let result = head.train(localFeatures: features, similarity: similarity, communicator: communicator)
        timer.lap(.loss)
        _ = backbone.backward(result.gradFeatures)
        timer.lap(.backward)
        return result.loss
    }

    /// The pair terms of a global batch for prediction, with batch or running BatchNorm statistics throughout.
    /// The network is not changed (running statistics included).
    public func pairTerms(_ input: Tensor, statistics: SPNHead.Statistics, communicator: any Communicator) -> SPNHead.PairTerms {
        let pass = statistics == .batch ? Pass(training: true, keepsRunningStatistics: true) : .evaluation
        let features = backbone.forward(input, pass)
        return head.pairTerms(localFeatures: features, statistics: statistics, communicator: communicator)
    }
}
