import ArgumentParser
import L2CMPI
import L2CTensor

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the libraries, rank count and threads this l2c runs with, as one JSON line per rank 0.")

    @OptionGroup var compute: ThreadsOption

    func run() throws {
        MPIRuntime.run(threads: compute.threads) { comm in
            ["ranks": comm.size, "threads_per_rank": ComputeThreads.openBLASThreads, "mpi": MPICommunicator.libraryVersion,
             "openblas": ComputeThreads.openBLASConfig, "onednn": ComputeThreads.oneDNNVersion,
             "onednn_channel_block": ActivationLayout.channelBlock, "onednn_isa": ComputeThreads.oneDNNISA,
             "cpu_fma": CPUFeatures.detected.widestFMA, "cpu_avx512_bf16": CPUFeatures.detected.avx512BF16,
             "cpu_amx_bf16": CPUFeatures.detected.amxBF16, "cpu_native_bf16": CPUFeatures.detected.nativeBF16]
        }
    }
}
