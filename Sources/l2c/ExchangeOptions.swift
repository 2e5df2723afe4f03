import ArgumentParser
import L2CTrain

/// How the ranks sum their gradients: shared by the training commands and `l2c bench`.
struct ExchangeOptions: ParsableArguments {
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    @Option(help: "Overlap the gradient all-reduce with backward: buckets on a communication thread (on), or one blocking all-reduce after backward (off).")
    var overlap: Switch = .on

    @Option(name: .customLong("bucket-mb"), help: "Size of one gradient all-reduce bucket in MB (with --overlap on).")
    var bucketMegabytes: Double = GradientExchange().bucketMegabytes

    var settings: GradientExchange {
        var e = GradientExchange()
        e.overlap = overlap == .on
        e.bucketMegabytes = bucketMegabytes
        return e
    }
}
