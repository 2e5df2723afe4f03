import Foundation
import L2CExperiments
import L2CRun

/// One run of a scaling study: what `l2c bench` measured with this many ranks.
public struct ScalingRun {
    public var ranks: Int
    public var hosts: Int
    public var threads: Int
    public var globalBatch: Int
    public var imagesPerSecond: Double
    public var stepSeconds: Double
    /// Parameters of the model (its gradient all-reduce moves 4 bytes each) and synchronised BatchNorm layers.
    public var parameters: Int
    public var batchNormLayers: Int
    /// Seconds per step (medians) of each part of the step, by `ScalingRun.parts` name.
    public var seconds: [String: Double]

    /// The parts of the step breakdown, in the order they are stacked.
    public static let parts = ["forward", "loss", "backward", "batchnorm_sync", "allreduce_exposed", "optimizer"]

    /// From `l2c bench`'s JSON line; nil when a field is missing.
    public init?(bench json: [String: Any], hosts: Int) {
        func number(_ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }
        guard let ranks = number("ranks"), let threads = number("threads"), let batch = number("batch_size"),
              let rate = number("images_per_sec"), let step = number("step_seconds_median"),
              let parameters = number("parameters"), let norms = number("batchnorm_layers") else { return nil }
        (self.ranks, self.threads, globalBatch, imagesPerSecond, stepSeconds) = (Int(ranks), Int(threads), Int(batch), rate, step)
        // Per-rank statistics (--local-batchnorm) synchronise nothing.
        (self.parameters, batchNormLayers, self.hosts) = (Int(parameters), json["batchnorm"] as? String == "local" ? 0 : Int(norms), hosts)
        seconds = [:]
        for part in Self.parts + ["allreduce"] { seconds[part] = number(part + "_seconds") ?? 0 }
    }

    /// Forward, loss and backward without BatchNorm's collectives: what shrinks with the local batch.
    var computeSeconds: Double { ["forward", "loss", "backward"].map { seconds[$0] ?? 0 }.reduce(0, +) }
}

/// A weak- or strong-scaling study: its runs, their efficiency against the smallest, and the communication
/// model's prediction beside them (`ScalingPrediction`).
public struct ScalingStudy {
    public enum Mode: String, CaseIterable, Sendable { case weak, strong }

    public var model: String
    public var imageSize: Int
    public var mode: Mode
    public var overlap: Bool
    public var runs: [ScalingRun] = []
    public var prediction: ScalingPrediction?

    public init(model: String, imageSize: Int, mode: Mode, overlap: Bool) {
        self.model = model
        self.imageSize = imageSize
        self.mode = mode
        self.overlap = overlap
    }

    /// The run every efficiency is measured against: the one with the fewest ranks.
    public var baseline: ScalingRun? { runs.min { $0.ranks < $1.ranks } }

    /// Throughput per rank against the baseline's: (X_R / R) / (X_R₀ / R₀); in both modes 1 is perfect.
    public func efficiency(imagesPerSecond: Double, ranks: Int) -> Double {
        guard let base = baseline, base.imagesPerSecond > 0 else { return .nan }
        return (imagesPerSecond / Double(ranks)) / (base.imagesPerSecond / Double(base.ranks))
    }

    public static let csvColumns = ["model", "image_size", "mode", "ranks", "hosts", "threads", "batch_per_rank", "global_batch",
                                    "images_per_sec", "efficiency", "step_seconds"]
        + ScalingRun.parts.map { $0 + "_seconds" } + ["allreduce_seconds", "predicted_step_seconds", "predicted_efficiency"]

    /// One header row, then one row per run.
    public func csv() -> String {
        var rows = [Self.csvColumns.joined(separator: ",")]
        for run in runs.sorted(by: { $0.ranks < $1.ranks }) {
            let predicted = prediction?.stepSeconds(ranks: run.ranks)
            let fields: [String] = [model, "\(imageSize)", mode.rawValue, "\(run.ranks)", "\(run.hosts)", "\(run.threads)",
                                    "\(run.globalBatch / run.ranks)", "\(run.globalBatch)", format(run.imagesPerSecond),
                                    format(efficiency(imagesPerSecond: run.imagesPerSecond, ranks: run.ranks)), format(run.stepSeconds)]
                + (ScalingRun.parts + ["allreduce"]).map { format(run.seconds[$0] ?? 0) }
                + [predicted.map(format) ?? "",
                   predicted.map { format(efficiency(imagesPerSecond: Double(run.globalBatch) / $0, ranks: run.ranks)) } ?? ""]
            rows.append(fields.joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    private func format(_ value: Double) -> String { value.isFinite ? String(format: "%.6g", value) : "" }
}
