import Foundation
import L2CComm

/// Where a training step's time goes. The step's body marks its laps (input, forward, loss, backward); time
/// that synchronised BatchNorm spends in its collectives during a lap is moved to `batchNormSync`; the loop
/// adds the gradient exchange, the optimizer and checkpoint pauses.
public final class StepTimer {
    public enum Part: String, CaseIterable {
        case input, forward, loss, backward
        /// Body time no lap claimed.
        case compute
        case batchNormSync = "batchnorm_sync"
        /// The gradient all-reduce in total (on the communication thread when overlapped) …
        case allReduce = "allreduce"
        /// … and the part the training thread waited for.
        case allReduceExposed = "allreduce_exposed"
        case optimizer, checkpoint
    }

    public private(set) var seconds: [Part: Double] = [:]
    private var mark = DispatchTime.now().uptimeNanoseconds
    private var batchNormMark = CollectiveTime.batchNorm.seconds

    public init() {}

    /// Starts timing laps from now.
    public func start() {
        mark = DispatchTime.now().uptimeNanoseconds
        batchNormMark = CollectiveTime.batchNorm.seconds
    }

    /// The time since the last mark goes to `part` (BatchNorm's collectives in it to `batchNormSync`).
    public func lap(_ part: Part) {
        let now = DispatchTime.now().uptimeNanoseconds, batchNorm = CollectiveTime.batchNorm.seconds
        let elapsed = Double(now - mark) / 1e9, synchronising = batchNorm - batchNormMark
        seconds[part, default: 0] += max(0, elapsed - synchronising)
        seconds[.batchNormSync, default: 0] += synchronising
        (mark, batchNormMark) = (now, batchNorm)
    }

    public func add(_ part: Part, _ value: Double) { seconds[part, default: 0] += value }
}

/// Step timings summed over the steps since the last report, as seconds per step and shares of the step.
struct StepBreakdown {
    private var sums: [StepTimer.Part: Double] = [:]
    private var steps = 0

    mutating func add(_ timer: StepTimer) {
        for (part, value) in timer.seconds { sums[part, default: 0] += value }
        steps += 1
    }

    /// `"<part>_seconds"` per step and `"<part>_share"` of the step, for the metrics log; then starts over.
    mutating func report() -> [String: Any] {
        guard steps > 0 else { return [:] }
        let perStep = sums.mapValues { $0 / Double(steps) }
        let step = perStep.filter { $0.key != .allReduce }.values.reduce(0, +)
        var fields: [String: Any] = ["step_seconds": JSONLine.round(step, digits: 4)]
        for (part, value) in perStep {
            fields["\(part.rawValue)_seconds"] = JSONLine.round(value, digits: 4)
            fields["\(part.rawValue)_share"] = JSONLine.round(step > 0 ? value / step : 0, digits: 3)
        }
        (sums, steps) = ([:], 0)
        return fields
    }
}
