import L2CComm
import L2CTensor

/// What a phase's network learns from, in one signature: the loss of the network's outputs for this rank's rows of
/// the global batch (the same value on every rank), and its gradient with respect to those outputs. Every loss of
/// L2C is one (pairwise, cross-entropy, ACOL + GAR, contrastive, domain-adversarial), so any phase can train with
/// any objective; each reads from `ObjectiveTargets` what it needs.
public protocol Objective {
    func evaluate(_ outputs: Tensor, _ targets: ObjectiveTargets, communicator: any Communicator) -> ObjectiveResult
}

/// What a step knows of its batch beyond the inputs.
public struct ObjectiveTargets {
    /// The class of each of this rank's rows (cross-entropy; the domain of each row for the domain classifier).
    public var labels: [Int]?
    /// Same or different for the pairs of the whole global batch (the pairwise losses).
    public var similarity: (any PairSimilarity)?
    /// The coarse class of each of this rank's rows (ACOL + GAR).
    public var coarseLabels: [Int]?
    /// The pass the outputs came from: its step sets the weight of scheduled terms (GAR's warm-up), and an objective
    /// with layers of its own (the domain classifier) runs them in it.
    public var pass: Pass

    public init(_ pass: Pass, labels: [Int]? = nil, similarity: (any PairSimilarity)? = nil, coarseLabels: [Int]? = nil) {
        (self.pass, self.labels, self.similarity, self.coarseLabels) = (pass, labels, similarity, coarseLabels)
    }
}

public struct ObjectiveResult {
    /// The loss over the global batch, identical on every rank.
    public let loss: Double
    /// dL/d(outputs) for this rank's rows, the shape of the outputs.
    public let gradOutputs: Tensor

    public init(loss: Double, gradOutputs: Tensor) { (self.loss, self.gradOutputs) = (loss, gradOutputs) }
}

// MARK: the objectives

/// A pairwise loss (KCL, MCL) on the softmax of the outputs: outputs are logits [rows, K].
public struct PairwiseObjective: Objective {
    public let loss: any PairwiseLoss
    public init(_ loss: any PairwiseLoss) { self.loss = loss }

    public func evaluate(_ logits: Tensor, _ targets: ObjectiveTargets, communicator: any Communicator) -> ObjectiveResult {
        guard let similarity = targets.similarity else { preconditionFailure("a pairwise objective needs the batch's pair targets") }
        let probs = Softmax.forward(logits)
        let result = loss.evaluate(localProbs: probs, similarity: similarity, communicator: communicator)
        return ObjectiveResult(loss: result.loss, gradOutputs: Softmax.backward(probs: probs, gradProbs: result.gradProbs))
    }
}

/// Softmax cross-entropy on class labels, averaged over the global batch: outputs are logits [rows, classes].
public struct CrossEntropyObjective: Objective {
    public init() {}

    public func evaluate(_ logits: Tensor, _ targets: ObjectiveTargets, communicator: any Communicator) -> ObjectiveResult {
        guard let labels = targets.labels else { preconditionFailure("cross-entropy needs the labels of this rank's rows") }
        let (loss, grad) = CrossEntropy.evaluate(logits: logits, labels: labels, communicator: communicator)
        return ObjectiveResult(loss: loss, gradOutputs: grad)
    }
}

/// ACOL + GAR on the pre-softmax activities [rows, P·k], GAR's weight rising linearly over `garWarmup` steps.
/// The terms of the last evaluation stay readable (the node activity that revives dead nodes).
public final class ACOLGARObjective: Objective {
    public let acol: ACOLGAR
    public let garWarmup: Int
    public private(set) var lastTerms = ACOLGAR.Terms()

    public init(_ acol: ACOLGAR, garWarmup: Int) { (self.acol, self.garWarmup) = (acol, garWarmup) }

    /// min(1, (step + 1) / warm-up), or 1 without a warm-up.
    public func garWeight(step: Int) -> Double { garWarmup > 0 ? min(1, Double(step + 1) / Double(garWarmup)) : 1 }

    public func evaluate(_ z: Tensor, _ targets: ObjectiveTargets, communicator: any Communicator) -> ObjectiveResult {
        guard let coarse = targets.coarseLabels else { preconditionFailure("ACOL + GAR needs the coarse labels of this rank's rows") }
        let result = acol.evaluate(localZ: z, coarseLabels: coarse, garWeight: garWeight(step: targets.pass.step), communicator: communicator)
        lastTerms = result.terms
        return ObjectiveResult(loss: result.loss, gradOutputs: result.gradZ)
    }
}

/// NT-Xent over the two views of every sample of the global batch: outputs are embeddings [2·rows, d], this
/// rank's first views then its second views. Needs no targets.
public struct ContrastiveObjective: Objective {
    public let loss: ContrastiveLoss
    public init(_ loss: ContrastiveLoss = ContrastiveLoss()) { self.loss = loss }

    public func evaluate(_ embeddings: Tensor, _ targets: ObjectiveTargets, communicator: any Communicator) -> ObjectiveResult {
        let result = loss.evaluate(localEmbeddings: embeddings, communicator: communicator)
        return ObjectiveResult(loss: result.loss, gradOutputs: result.gradEmbeddings)
    }
}

/// DANN's domain term: a domain classifier behind gradient reversal on the features [rows, d], cross-entropy on
/// each row's domain (`labels`: 0 source, 1 target). `weight` scales the term (and its gradient before it flows
/// back through the classifier); `reversal.lambda` follows the training progress, both set by the caller.
public final class DomainAdversarialObjective: Objective {
    public let classifier: Sequential
    public let reversal = GradientReversal()
    public var weight = 1.0

    public init(classifier: Sequential) { self.classifier = classifier }

    public func evaluate(_ features: Tensor, _ targets: ObjectiveTargets, communicator: any Communicator) -> ObjectiveResult {
        guard let domains = targets.labels else { preconditionFailure("the domain term needs the domain of this rank's rows") }
        let logits = classifier.forward(reversal.forward(features, targets.pass), targets.pass)
        let (loss, grad) = CrossEntropy.evaluate(logits: logits, labels: domains, communicator: communicator)
        let gradWeight = Float(weight)
        for i in 0..<grad.count { grad[i] *= gradWeight }
        return ObjectiveResult(loss: weight * loss, gradOutputs: reversal.backward(classifier.backward(grad)))
    }
}
