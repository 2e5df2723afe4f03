import ArgumentParser
import L2CBench
import L2CComm
import L2CExperiments
import L2CRun

extension WirePrecision: ExpressibleByArgument {}

/// How the ranks sum their gradients: shared by the training commands and `l2c bench`.
struct ExchangeOptions: ParsableArguments {
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    @Option(help: "Overlap the gradient all-reduce with backward: buckets on a communication thread (on), or one blocking all-reduce after backward (off).")
    var overlap: Switch = .on

    @Option(name: .customLong("bucket-mb"), help: "Size of one gradient all-reduce bucket in MB (with --overlap on).")
    var bucketMegabytes: Double = GradientExchange().bucketMegabytes

    @Option(name: .customLong("allreduce-precision"), help: "How gradients travel: fp32, or bf16 (half the bytes; sums formed in fp32).")
    var precision: WirePrecision = .fp32

    var settings: GradientExchange {
        var e = GradientExchange()
        e.overlap = overlap == .on
        e.bucketMegabytes = bucketMegabytes
        e.precision = precision
        return e
    }
}
