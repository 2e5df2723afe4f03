import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// A self-supervised start for the clustering network (`--warm-up-steps N`; default 1,000 with an SPN on class-id
/// data): its backbone first learns, on the unlabelled target, to pick each sample's second randomly changed view
/// out of all views of the global batch (`ContrastiveLoss`), through a Linear projection that is then dropped. The
/// clustering network starts from that backbone with a fresh head, and the target geometry laid over the SPN's
/// pairs comes from the backbone's features (`CrossTask.targetGeometry`): neighbours similar, pairs below the
/// median cosine dissimilar.
///
/// An SPN learnt on other classes sees little of the target's structure; the target's own images teach a backbone
/// what varies within a class. The warm-up lifts the clustering together with the far pairs of its features, not
/// alone (README, "Contrastive warm-up and the target's geometry").
public struct ContrastiveWarmUp: Encodable, Sendable, Equatable {
    /// Optimisation steps of the warm-up (0: the clustering network starts from a random backbone).
    public var steps: Int

    public init(steps: Int) { self.steps = steps }

    public static let off = ContrastiveWarmUp(steps: 0)

    /// The default with an SPN on class-id data (`transfer`, `cluster`).
    public static let defaultSteps = 1000

    /// Width of the projection the loss sees.
    public static let projectionWidth = 128

    /// The two views' random changes: SampleAugmentation's affine, padded crop and intensity jitter (flips are not
    /// label-preserving for digits and letters). Without the jitter, views match by their overall intensity (README,
    /// "Contrastive warm-up and the target's geometry").
    public static let augmentation = SampleAugmentation(transforms: [.affine, .crop, .jitter])

    /// Seed streams of the two views (the same sample at the same step gets two different draws).
    static let viewStreams: [UInt64] = [0x5649_4557_3030, 0x5649_4557_3031]
}

extension CrossTask {
    /// Trains a network of `architecture` with the projection as its output layer contrastively on `data` (labels
    /// unused), as phase `phase`. A run resumed after the phase restores it.
    static func warmUpBackbone(_ data: Dataset, architecture: Architecture, warmUp: ContrastiveWarmUp, optimization: Optimization,
                               phase name: String, experiment: ExperimentRun) throws -> Sequential {
        let comm = experiment.communicator
        var plan = optimization
        (plan.steps, plan.augmentation) = (warmUp.steps, ContrastiveWarmUp.augmentation)
        let network = try plan.build(architecture, channels: data.channels, height: data.height, width: data.width,
                                     outputs: ContrastiveWarmUp.projectionWidth, seed: plan.seed &+ 0x5741_524D, communicator: comm)
        var phase = Phase(name, label: "warm-up", network: network, what: "warm-up backbone's", optimization: plan, sampleCount: data.count)
        phase.keepsResult = true
        guard let loop = try experiment.begin(phase) else { return network }
        let objective = ContrastiveObjective()
        experiment.console.log("cluster: contrastive warm-up of the \(architecture.rawValue) backbone on \(data.count) unlabelled samples, \(loop.steps) steps, two views of each (\(plan.augmentation.name)), τ = \(objective.loss.temperature)")
        // Each rank's rows: its samples' first views, then their second views.
        _ = try loop.run(Phase.step(network, objective, communicator: comm) { batch in
            let views = ContrastiveWarmUp.viewStreams.map { plan.images(data, batch.localIndices, step: batch.step, stream: $0) }
            return (Tensor(stacking: views), ObjectiveTargets(batch.pass))
        })
        experiment.complete(phase)
        return network
    }

    /// Copies `warmedUp`'s tensors into `model`'s, all but the output layer's.
    static func startFromBackbone(_ model: Sequential, of warmedUp: Sequential, architecture: Architecture) {
        let source = Dictionary(uniqueKeysWithValues: warmedUp.stateTensors.map { ($0.name, $0.tensor) })
        for (name, tensor) in model.stateTensors where !name.hasPrefix(architecture.outputLayerName + ".") {
            tensor.copy(from: source[name]!)
        }
    }
}
