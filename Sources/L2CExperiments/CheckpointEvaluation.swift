import Foundation
import L2CCluster
import L2CComm
import L2CData
import L2CRun
import L2CTensor

/// `l2c eval`: rebuilds a model from a checkpoint's metadata and scores it on a dataset split.
public enum CheckpointEvaluation {
    /// `parents` and `duplicates`, when given, must be the ACOL layout the checkpoint was trained with.
    public static func run(checkpoint path: String, data: String, split: Split, labelColumn: Int? = nil,
                           parents: Int? = nil, duplicates: Int? = nil, communicator comm: any Communicator) throws -> [String: Any] {
        let (contents, dataset) = try comm.checked("loading the checkpoint and data") { () -> (Checkpoint.Contents, Dataset) in
            let contents = try Checkpoint.load(path)
            // Image folders are decoded at the side the network was trained on.
            let side = contents.metadata["height"].flatMap { Int($0) } ?? 224
            return (contents, try DataSource.open(data, labelColumn: labelColumn).load(split, imageSize: side))
        }
        let meta = contents.metadata
        // A clustering network of a transfer run is scored on the classes it clustered.
        let scored = try meta["classes"].map { text in
            try dataset.restricted(to: text.split(separator: ",").compactMap { Int($0) }, option: "checkpoint classes")
        } ?? dataset
        func field(_ key: String) throws -> Int {
            guard let text = meta[key], let value = Int(text), value > 0 else {
                throw InputError(path, "metadata '\(key)': expected a positive integer, found \(meta[key].map { "'\($0)'" } ?? "nothing")")
            }
            return value
        }
        guard let name = meta["model"], let architecture = Architecture(rawValue: name) else {
            throw InputError(path, "metadata 'model': expected one of \(Architecture.allCases.map(\.rawValue)), found \(meta["model"] ?? "nothing")")
        }
        let (channels, height, width) = (try field("channels"), try field("height"), try field("width"))
        if parents != nil || duplicates != nil {
            guard let savedParents = meta["parents"].flatMap(Int.init), let savedDuplicates = meta["duplicates"].flatMap(Int.init) else {
                throw InputError(path, "--parents/--duplicates given, but the checkpoint was not trained by l2c acol")
            }
            let (p, k) = (parents ?? savedParents, duplicates ?? savedDuplicates)
            guard (p, k) == (savedParents, savedDuplicates) else {
                throw InputError(path, "the checkpoint has \(savedParents) parents × \(savedDuplicates) duplicates = \(savedParents * savedDuplicates) ACOL nodes; --parents \(p) --duplicates \(k) asks for \(p * k)")
            }
        }
        guard (scored.channels, scored.height, scored.width) == (channels, height, width) else {
            throw InputError(data, "samples are \(scored.channels)×\(scored.height)×\(scored.width), the checkpoint was trained on \(channels)×\(height)×\(width)")
        }
        let model = architecture.build(channels: channels, height: height, width: width, outputs: try field("outputs"), seed: 0, communicator: comm)
        try Checkpoint.restore(contents, into: model.stateTensors, path: path)
        let scores = Evaluation.score(model, scored, communicator: comm)
        return ["acc": JSONLine.round(scores.accuracy), "nmi": JSONLine.round(scores.nmi), "ari": JSONLine.round(scores.ari),
                "clusters_used": scores.clustersUsed, "samples": scored.count, "split": split.rawValue, "ranks": comm.size,
                "checkpoint": path, "model": architecture.rawValue]
    }
}
