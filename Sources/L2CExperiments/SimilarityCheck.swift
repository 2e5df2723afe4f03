import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// A similarity network scored on held-out data while it trains (classes it does not learn from, as the
/// target's will be), at the decision threshold that suits those pairs best.
///
/// Over the ordered pairs of seeded global batches of `heldOut`, the head's log-odds of "similar",
/// m = logit(similar) − logit(dissimilar), are counted into bins of 0.05 on [−20, 20] by truth and summed over
/// the ranks. Predicting "similar" for m above a bin edge e gives TP(e), FP(e), FN(e); the edge with the
/// highest F1 = 2TP/(2TP + FP + FN) is the decision margin, the threshold τ = 1/(1 + e^(−m)) on p(similar).
public struct SimilarityCheck {
    public struct Score: Sendable {
        public let margin: Float
        public var threshold: Double { SimilarityCheck.probability(margin: margin) }
        public let precision: Double
        public let recall: Double
        public let f1: Double
        /// The F1 of calling every pair similar, 2r/(1 + r) for a share r of similar pairs: what a network that
        /// learnt nothing reaches with the best threshold.
        public var baseline: Double = 0
        /// The F1 at the threshold the network decides with (`head.decisionMargin`).
        public var usedF1: Double = 0
    }

    public let heldOut: Dataset
    public let globalBatch: Int
    public let seed: UInt64
    static let (low, width, bins): (Float, Float, Int) = (-20, 0.05, 800)

    /// Below this held-out F1, or within `weakGain` of the baseline, the network is reported as not having learnt.
    public static let (weakF1, weakGain) = (0.3, 0.05)

    /// `globalBatch` is capped by the held-out set (a multiple of the rank count).
    public init(heldOut: Dataset, globalBatch: Int, ranks: Int, seed: UInt64) {
        self.heldOut = heldOut
        self.globalBatch = min(globalBatch, heldOut.count / ranks * ranks)
        self.seed = seed
    }

    public func score(_ network: SimilarityNetwork, statistics: SPNHead.Statistics = .batch, communicator comm: any Communicator) -> Score {
        var counts = [Double](repeating: 0, count: 2 * Self.bins)   // [similar pairs | dissimilar pairs] by bin
        if globalBatch >= 2 {
            CrossTask.forEachPairMargin(network, heldOut, globalBatch: globalBatch, statistics: statistics, seed: seed, communicator: comm) { a, b, m in
                let bin = min(max(Int(((m - Self.low) / Self.width).rounded(.down)), 0), Self.bins - 1)
                counts[(heldOut.labels[a] == heldOut.labels[b] ? 0 : Self.bins) + bin] += 1
            }
            counts.withUnsafeMutableBufferPointer { comm.allReduceSum($0.baseAddress!, count: 2 * Self.bins) }
        }
        let similar = counts[..<Self.bins].reduce(0, +)
        var best = Score(margin: 0, precision: 0, recall: 0, f1: 0)
        var (truePositives, falsePositives) = (0.0, 0.0)
        // From the top bin down: predicting "similar" for the bins ≥ k.
        for k in stride(from: Self.bins - 1, through: 1, by: -1) {
            truePositives += counts[k]
            falsePositives += counts[Self.bins + k]
            let f1 = Self.f1(truePositives, falsePositives, falseNegatives: similar - truePositives)
            if f1 > best.f1 {
                best = Score(margin: Self.low + Float(k) * Self.width, precision: truePositives / max(truePositives + falsePositives, 1),
                             recall: truePositives / max(similar, 1), f1: f1)
            }
        }
        // At the network's own margin: the bins from its edge up.
        let usedBin = min(max(Int(((network.head.decisionMargin - Self.low) / Self.width).rounded(.up)), 0), Self.bins - 1)
        let usedTP = counts[usedBin..<Self.bins].reduce(0, +), usedFP = counts[(Self.bins + usedBin)...].reduce(0, +)
        best.usedF1 = Self.f1(usedTP, usedFP, falseNegatives: similar - usedTP)
        let pairs = counts.reduce(0, +)
        best.baseline = pairs > 0 ? 2 * (similar / pairs) / (1 + similar / pairs) : 0
        return best
    }

    /// F1 = 2TP / (2TP + FP + FN), 0 without pairs.
    static func f1(_ truePositives: Double, _ falsePositives: Double, falseNegatives: Double) -> Double {
        2 * truePositives / max(2 * truePositives + falsePositives + falseNegatives, 1)
    }

    /// p(similar) = 1/(1 + e^(−m)) of a log-odds margin m.
    public static func probability(margin: Float) -> Double { 1 / (1 + exp(-Double(margin))) }

    /// The classes to hold out of a labelled auxiliary set: a seeded tenth of them (at least 2), when it has at
    /// least 10; nil otherwise.
    public static func heldOutClasses(of data: Dataset, seed: UInt64) -> Set<Int>? {
        let classes = data.classes
        guard classes.count >= 10 else { return nil }
        var rng = RandomGenerator(seed: seed, stream: 0x484f_4c44)
        let order = rng.permutation(classes.count)
        return Set(order.prefix(max(2, classes.count / 10)).map { classes[$0] })
    }

    /// The similarity network's training data and its held-out data: a tenth of the classes where there are at
    /// least 10 (the target's classes will be unseen ones too), else `test` (the same classes' test split).
    public static func split(_ train: Dataset, test: Dataset?, seed: UInt64) -> (train: Dataset, heldOut: Dataset?) {
        if let held = heldOutClasses(of: train, seed: seed) {
            return (train.filter(labels: Set(train.classes).subtracting(held)), train.filter(labels: held))
        }
        return (train, test.flatMap { $0.count >= 2 ? $0 : nil })
    }

    /// The warning when even the best held-out score is weak, with what to try.
    public static func warning(_ score: Score) -> String? {
        guard score.usedF1 < weakF1 || score.usedF1 < score.baseline + weakGain else { return nil }
        return String(format: "warning: the similarity network does not tell pairs of held-out classes apart: F1 %.3f at its threshold p = 0.5 (best %.3f at p = %.3f), where calling every pair similar scores %.3f (warned below %.2f or within %.2f of that). Clustering from its pairs will be poor. Try more SPN steps (--spn-epochs or --steps), another SPN learning rate, more auxiliary classes or images, or check that the auxiliary images look like the target's.",
                      score.usedF1, score.f1, score.threshold, score.baseline, weakF1, weakGain)
    }
}
