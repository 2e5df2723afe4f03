/// How `l2c adapt` trains across domains (a labelled source, an unlabelled target with the same classes).
public enum AdaptationMethod: String, CaseIterable, Sendable, Encodable {
    /// Cross-entropy on the source only.
    case sourceOnly = "source-only"
    /// + a domain classifier behind gradient reversal (Ganin & Lempitsky).
    case dann
    /// + KCL/MCL over all pairs of the global target batch, labelled by a frozen similarity network (L2C's CCN+).
    case ccnPlus = "ccn+"
    /// CCN+ and DANN together (CCN++).
    case ccnPlusPlus = "ccn++"

    var adversarial: Bool { self == .dann || self == .ccnPlusPlus }
    var clusters: Bool { self == .ccnPlus || self == .ccnPlusPlus }
}
