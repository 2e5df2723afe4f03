import ArgumentParser
import L2CData
import L2CTensor

// The options several commands take, each declared once with one help text.

extension Architecture: ExpressibleByArgument {}

/// `--data`: the dataset of every command that reads one, opened by the one data layer.
struct DataOption: ParsableArguments {
    @Option(help: ArgumentHelp("The dataset, its format recognised from the path: \(DataFormat.described).", valueName: "path"))
    var data: String
}

/// `--model`: the network of every training command.
struct ModelOption: ParsableArguments {
    @Option(help: "Network: lenet (images of at least 16×16, with BatchNorm), mlp (any input), or resnet18, resnet34, resnet50 (oneDNN; a small-image stem below 64 pixels).")
    var model: Architecture = .lenet
}

/// `--out`: the output folder of every training command.
struct OutputOption: ParsableArguments {
    @Option(help: ArgumentHelp("Output folder: the networks trained (model.safetensors, and spn.safetensors where a similarity network is trained), metrics.jsonl, and training states in checkpoints/. Without it nothing is written.", valueName: "folder"))
    var out: String?
}

/// `--threads`: every command that computes under MPI.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Compute threads per rank: OpenBLAS, oneDNN and BatchNorm (default: the node's cores divided by the ranks on the node).")
    var threads: Int?
}
