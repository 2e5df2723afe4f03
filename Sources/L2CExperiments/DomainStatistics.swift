import L2CRun
import L2CTensor

/// How `l2c adapt` normalises the two domains.
public enum DomainBatchNorm: String, CaseIterable, Sendable, Encodable {
    /// One pass over source and target rows together: BatchNorm statistics over both domains.
    case shared
    /// One pass per domain, each normalised by its own batch statistics; running statistics kept per domain
    /// (the target's score the target, as AdaBN does). γ and β are shared.
    case perDomain = "per-domain"
}

/// A second set of BatchNorm running statistics (the target's) beside the model's own (the source's): `swap()`
/// exchanges them, so the model's buffers hold the target's during the target pass and for scoring the target.
final class DomainStatistics {
    /// The model's running-statistics buffers and their target copies.
    private let pairs: [(name: String, model: Tensor, target: Tensor)]

    init(model: Sequential) {
        pairs = model.stateTensors.filter { $0.name.hasSuffix("running_mean") || $0.name.hasSuffix("running_var") }.map { entry in
            let copy = Tensor(shape: entry.tensor.shape)
            copy.data.update(from: entry.tensor.data, count: entry.tensor.count)
            return (entry.name, entry.tensor, copy)
        }
    }

    /// The target's statistics under "target_statistics.<buffer name>", for training states.
    var stateTensors: [(name: String, tensor: Tensor)] { pairs.map { ("target_statistics.\($0.name)", $0.target) } }

    func swap() {
        for pair in pairs {
            for i in 0..<pair.model.count { (pair.model[i], pair.target[i]) = (pair.target[i], pair.model[i]) }
        }
    }

    /// `body` with the target's statistics in the model.
    func withTarget<T>(_ body: () throws -> T) rethrows -> T {
        swap()
        defer { swap() }
        return try body()
    }
}
