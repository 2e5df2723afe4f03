import L2CBench
import L2CData
import L2CExperiments
import L2CRun

/// How far two checkpoints of the same network are apart, for tests of runs that must agree to float rounding.
extension Checkpoint.Contents {
    /// Each tensor's largest difference relative to its own largest magnitude (for messages: small tensors such as
    /// BatchNorm shifts show rounding noise large against themselves).
    func relativeDifferences(to other: Checkpoint.Contents) -> [(name: String, difference: Float)] {
        tensors.map { name, x in
            let y = other.tensors[name]!.values
            let scale = x.values.map(abs).max() ?? 0
            return (name, (zip(x.values, y).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-12))
        }.sorted { $0.difference > $1.difference }
    }

    /// The largest difference over the tensors chosen by `running` (BatchNorm running statistics, or all the others)
    /// relative to the largest magnitude among them.
    func wholeDifference(to other: Checkpoint.Contents, runningStatistics running: Bool = false) -> Float {
        let names = tensors.keys.filter { $0.contains("running") == running }
        let difference = names.map { name in zip(tensors[name]!.values, other.tensors[name]!.values).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        let scale = names.map { tensors[$0]!.values.map(abs).max() ?? 0 }.max() ?? 1
        return difference / max(scale, 1e-12)
    }
}
