import Foundation
import L2CCluster
import L2CRun
import L2CTensor

/// Several initialisations of a clustering network tried briefly, the one whose pairwise loss falls lowest kept.
///
/// Trained from a weak SPN's pairs, where the clustering network ends up depends on where it started. The loss at
/// the end does not tell the starts apart, but the loss early on does (README, "Restarts", has the measurements).
/// So each candidate trains for `trialSteps` on the same batches,
/// the criterion is its mean loss over the trial's second half, and the winner trains from its start for the
/// whole run (its first `trialSteps` repeat its trial exactly). Labels are never used.
public struct ClusteringRestarts: Encodable, Sendable, Equatable {
    /// Candidates; 1 trains the first one without a trial.
    public var count: Int

    /// Three candidates (the README's "Restarts" says what they lift).
    public static let defaultCount = 3

    public init(count: Int = ClusteringRestarts.defaultCount) { self.count = count }

    /// Runs shorter than this train one initialisation: their early losses are noise (README, "Restarts").
    public static let minimumSteps = 2_000

    /// Whether a run of `totalSteps` tries its candidates.
    public func tries(totalSteps: Int) -> Bool { count > 1 && totalSteps >= Self.minimumSteps }

    /// A fifth of the run.
    public static func trialSteps(totalSteps: Int) -> Int { totalSteps / 5 }

    /// The steps whose losses make the criterion: the trial's second half.
    public static func countsTowardsCriterion(step: Int, trialSteps: Int) -> Bool { step >= trialSteps / 2 }

    /// Candidate `candidate`'s initialisation seed; candidate 0 draws what a run without restarts draws.
    public static func initialisationSeed(runSeed: UInt64, candidate: Int) -> UInt64 {
        runSeed &+ 1 &+ UInt64(candidate) &* 0x9E37_79B9_7F4A_7C15
    }

    /// The candidate with the lowest criterion (the first of equals).
    public static func best(_ criteria: [Double]) -> Int {
        criteria.indices.min { criteria[$0] < criteria[$1] } ?? 0   // min(by:) keeps the first of equals
    }
}

/// A trained clustering network and how it was chosen.
public struct ClusteringRun {
    public let model: Sequential
    public let steps: Int
    public let seconds: Double
    /// The initialisation kept (0-based), and each candidate's trial loss (empty without restarts).
    public let chosenInitialisation: Int
    public let trialLosses: [Double]
    /// The target's geometry laid over the SPN's pairs (`TargetGeometry`), if any.
    public let geometry: TargetGeometry?
    /// The contrastive warm-up's steps and network (projection included), when there was one.
    public let warmUp: (steps: Int, network: Sequential)?

    /// The warmed-up backbone without its projection: the features the clustering network started from.
    public var warmedUpTrunk: Sequential? { warmUp?.network.trunk }

    /// For JSON summaries.
    public var restartRecord: Record {
        Record(restarts: max(trialLosses.count, 1), restartChosen: chosenInitialisation + 1, restartTrialLosses: trialLosses.map { JSONLine.round($0) },
               neighboursPerSample: geometry?.neighbours?.k ?? 0, farPairsBelowCosine: geometry?.far.map { JSONLine.round(Double($0.farCosine)) },
               warmUpSteps: warmUp?.steps ?? 0)
    }

    /// How the clustering network started and what its pair targets were made of.
    public struct Record: Encodable {
        public var restarts: Int
        /// 1-based.
        public var restartChosen: Int
        public var restartTrialLosses: [Double]
        public var neighboursPerSample: Int
        @Nullable public var farPairsBelowCosine: Double?
        public var warmUpSteps: Int
    }
}
