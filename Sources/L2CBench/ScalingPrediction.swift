import L2CExperiments
import L2CRun
/// The step time of a data-parallel run on R ranks, predicted from a measured baseline run and the network's
/// Hockney models (`l2c bench-comm`):
///
///     step(R) = compute(R) + batchnorm(R) + exposed(R) + optimizer
///     compute(R)   = forward + loss + backward of the baseline, × R₀/R in strong scaling (smaller local batches),
///                    × max(1, R·threads / sharedCores) when all ranks share `sharedCores` cores (fake hosts)
///     batchnorm(R) = 2 all-reduces of ~2C floats per BatchNorm layer (statistics forward, gradients backward)
///     allreduce(R) = 2(R−1)·α + 2(R−1)/R · 4·parameters·β
///     exposed(R)   = max(0, allreduce(R) − backward(R)) with overlap (buckets travel while backward runs),
///                    allreduce(R) without
///
/// Pairwise losses add an all-gather of the N×K probabilities and a reduce-scatter of their gradient, both
/// (R−1)·α + (R−1)/R · 4·N·K·β with N the global batch, plus O(N_local·N·K) pair terms that grow with R in weak
/// scaling (`pairwiseSeconds`).
public struct ScalingPrediction {
    public var baseline: ScalingRun
    public var network: CommModelReport
    public var mode: ScalingStudy.Mode
    public var overlap: Bool
    /// Cores all ranks share (nil: every host has its own, enough for its ranks).
    public var sharedCores: Int?
    /// Bytes one BatchNorm collective moves (2C floats for a typical C = 256).
    public static let batchNormBytes = 2048.0

    public init(baseline: ScalingRun, network: CommModelReport, mode: ScalingStudy.Mode, overlap: Bool, sharedCores: Int? = nil) {
        self.baseline = baseline
        self.network = network
        self.mode = mode
        self.overlap = overlap
        self.sharedCores = sharedCores
    }

    /// The parts of the predicted step, by `ScalingRun.parts` name, plus "allreduce" (the total).
    public func parts(ranks: Int) -> [String: Double] {
        let allReduce = network.model(.allReduce) ?? HockneyModel(alpha: 0, beta: 0)
        var shrink = mode == .strong ? Double(baseline.ranks) / Double(ranks) : 1
        if let sharedCores {
            let crowding = { (r: Int) in max(1, Double(r * baseline.threads) / Double(sharedCores)) }
            shrink *= crowding(ranks) / crowding(baseline.ranks)
        }
        var parts: [String: Double] = [:]
        for part in ["forward", "loss", "backward"] { parts[part] = (baseline.seconds[part] ?? 0) * shrink }
        parts["optimizer"] = baseline.seconds["optimizer"] ?? 0
        parts["batchnorm_sync"] = Double(2 * baseline.batchNormLayers) * allReduce.seconds(.allReduce, bytes: Self.batchNormBytes, ranks: ranks)
        let total = allReduce.seconds(.allReduce, bytes: 4 * Double(baseline.parameters), ranks: ranks)
        parts["allreduce"] = total
        parts["allreduce_exposed"] = overlap ? max(0, total - (parts["backward"] ?? 0)) : total
        return parts
    }

    public func stepSeconds(ranks: Int) -> Double {
        parts(ranks: ranks).filter { $0.key != "allreduce" }.values.reduce(0, +)
    }

    /// Seconds per step a pairwise loss (KCL, MCL) adds on R ranks with N = globalBatch samples and K clusters:
    /// its all-gather and reduce-scatter of N×K floats, and N_local·N·K pair terms at `pairRate` terms per second.
    public func pairwiseSeconds(ranks: Int, globalBatch: Int, clusters: Int, pairRate: Double) -> Double {
        let bytes = 4 * Double(globalBatch * clusters)
        let gather = network.model(.allGather)?.seconds(.allGather, bytes: bytes, ranks: ranks) ?? 0
        let scatter = network.model(.reduceScatter)?.seconds(.reduceScatter, bytes: bytes, ranks: ranks) ?? 0
        let terms = Double(globalBatch / ranks) * Double(globalBatch) * Double(clusters)
        return gather + scatter + terms / pairRate
    }
}
