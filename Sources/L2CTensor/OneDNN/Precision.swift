/// The arithmetic of a ResNet's convolutions.
///
/// - `fp32`: everything in float32.
/// - `bf16`: convolutions and their gradients run on bf16 operands through oneDNN, and a ResNet's activations and
///   activation gradients are stored in bf16 between its layers (up to its fp32 features); weight gradients,
///   master weights, BatchNorm's statistics and arithmetic, the losses, the optimiser and the gradient all-reduce
///   stay fp32.
public enum Precision: String, Sendable, CaseIterable {
    case fp32, bf16

    /// What a user asks for on the command line.
    public enum Choice: String, Sendable, CaseIterable {
        case fp32, bf16
        /// bf16 where the CPU executes it natively, fp32 elsewhere.
        case auto
    }

    /// Native bf16 needs the CPU's instructions (AVX512_BF16 or AMX-BF16) and oneDNN dispatching to them
    /// (`oneDNNISA`, which ONEDNN_MAX_CPU_ISA can cap); anything less is oneDNN's slow emulation.
    public static func nativeBF16(features: CPUFeatures, oneDNNISA: String) -> Bool {
        features.nativeBF16 && ["avx512_core_bf16", "avx512_core_amx"].contains(oneDNNISA)
    }

    /// The precision to run, with a sentence for the console saying why; bf16 where it is not native is an
    /// error naming what is missing: never a silent fallback to emulation.
    public static func resolve(_ choice: Choice, features: CPUFeatures = .detected,
                               oneDNNISA: String = ComputeThreads.oneDNNISA) throws -> (precision: Precision, reason: String) {
        let native = nativeBF16(features: features, oneDNNISA: oneDNNISA)
        switch choice {
        case .fp32: return (.fp32, "fp32 (--precision fp32)")
        case .bf16 where native: return (.bf16, "bf16 convolutions (--precision bf16; oneDNN dispatches to \(oneDNNISA))")
        case .bf16: throw PrecisionError(missing: features.nativeBF16 ? "oneDNN dispatching to avx512_core_bf16 (it uses \(oneDNNISA); is ONEDNN_MAX_CPU_ISA set?)"
                                                                      : "the AVX512_BF16 or AMX-BF16 instructions (this CPU's widest is \(features.widestFMA))")
        case .auto where native: return (.bf16, "bf16 convolutions (--precision auto: this CPU has native bf16, oneDNN uses \(oneDNNISA))")
        case .auto: return (.fp32, "fp32 (--precision auto: no native bf16 here, oneDNN uses \(oneDNNISA))")
        }
    }
}

/// `--precision bf16` on a machine without native bf16.
public struct PrecisionError: Error, CustomStringConvertible {
    public let missing: String
    public var description: String { "--precision bf16: this machine lacks \(missing); use --precision fp32 or auto" }
}
