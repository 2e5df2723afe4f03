import Foundation
import L2CComm
import L2CData
import L2CTensor

/// `--init FILE.safetensors`: a backbone's parameters and BatchNorm statistics from a file whose tensor names
/// follow the model's, which for ResNets are torchvision's (`conv1.weight`, `layer1.0.bn1.running_mean`, …), e.g.
/// `safetensors.torch.save_file(torchvision.models.resnet50(weights="IMAGENET1K_V2").state_dict(), FILE)`.
///
/// The classifier head (`fc.*` of a ResNet) is never loaded: its classes are not the task's. A tensor of the
/// model is loaded when the file has one of that name and shape; the report lists the rest.
public struct PretrainedWeights {
    public var loaded: [String] = []
    /// The model's tensors the file does not hold (they keep their fresh initialisation).
    public var missing: [String] = []
    /// The file's tensors the model does not have (e.g. PyTorch's integer `num_batches_tracked`).
    public var unexpected: [String] = []
    /// Same name, different shape: "name file [64, 3, 7, 7], model [64, 1, 3, 3]".
    public var mismatched: [String] = []
    /// The file's tensors of the skipped classifier head.
    public var skippedHead: [String] = []

    /// Copies into `tensors` (the model's state tensors) what `path` holds for them, except the tensors under
    /// `head` (a layer name). Throws when nothing at all matches.
    public static func load(_ path: String, into tensors: [(name: String, tensor: Tensor)], skippingHead head: String) throws -> PretrainedWeights {
        let contents = try Checkpoint.load(path)
        let isHead = { (name: String) in name.hasPrefix(head + ".") }
        var report = PretrainedWeights()
        let modelNames = Set(tensors.map(\.name))
        for (name, tensor) in tensors where !isHead(name) {
            guard let stored = contents.tensors[name] else {
                report.missing.append(name)
                continue
            }
            guard stored.shape == tensor.shape else {
                report.mismatched.append("\(name) file \(stored.shape), model \(tensor.shape)")
                continue
            }
            stored.values.withUnsafeBufferPointer { tensor.data.update(from: $0.baseAddress!, count: tensor.count) }
            report.loaded.append(name)
        }
        for name in Set(contents.tensors.keys).union(contents.nonFloat.keys).sorted() where !modelNames.contains(name) || isHead(name) {
            if isHead(name) { report.skippedHead.append(name) } else { report.unexpected.append(name) }
        }
        guard !report.loaded.isEmpty else {
            let fileNames = contents.tensors.keys.sorted().prefix(3).joined(separator: ", ")
            let modelExamples = tensors.map(\.name).prefix(3).joined(separator: ", ")
            throw InputError("--init", "\(path): none of its \(contents.tensors.count) tensors matches the model by name and shape "
                              + "(the file has \(fileNames.isEmpty ? "no float tensors" : fileNames)…, the model expects \(modelExamples)…)")
        }
        return report
    }

    /// One line for the console: counts, with the first names of each kind of problem.
    public var summary: String {
        func some(_ names: [String]) -> String { names.isEmpty ? "" : " (" + names.prefix(3).joined(separator: "; ") + (names.count > 3 ? "; …" : "") + ")" }
        return "loaded \(loaded.count) tensors, missing \(missing.count)\(some(missing)), unexpected \(unexpected.count)\(some(unexpected)), "
            + "mismatched shapes \(mismatched.count)\(some(mismatched)), classifier head skipped (\(skippedHead.count) tensors)"
    }

    /// For the JSON summary: how many tensors were loaded, and the names of those that were not.
    public struct Record: Encodable {
        public var loaded: Int
        public var missing, unexpected, mismatched, skippedHead: [String]
    }

    public var record: Record { Record(loaded: loaded.count, missing: missing, unexpected: unexpected, mismatched: mismatched, skippedHead: skippedHead) }
}
