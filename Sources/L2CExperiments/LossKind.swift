import L2CCluster
import L2CRun

/// The supervision a clustering network trains with.
public enum LossKind: String, CaseIterable, Sendable, Encodable {
    /// Cross-entropy on class labels (the supervised upper bound).
    case ce
    /// KL-divergence contrastive loss on pairwise constraints.
    case kcl
    /// Meta classification likelihood on pairwise constraints.
    case mcl

    /// What a network learns from with this loss: class labels, or the pairs they make.
    public var objective: any Objective {
        pairwise.map(PairwiseObjective.init) ?? CrossEntropyObjective()
    }

    /// The pairwise loss, for kcl and mcl.
    public var pairwise: (any PairwiseLoss)? {
        switch self {
        case .ce: return nil
        case .kcl: return KCL()
        case .mcl: return MCL()
        }
    }
}
