import ArgumentParser
import L2CBench
import L2CExperiments
import L2CRun

/// The long-run options every training command shares: training states, resume, the stall watchdog.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("checkpoint-every"), help: "Write a training state to OUT/checkpoints every this many steps (also every --checkpoint-minutes, and at the end).")
    var checkpointEvery: Int?

    @Option(name: .customLong("checkpoint-minutes"), help: "Write a training state when this many minutes have passed since the last one (0: not by time).")
    var checkpointMinutes: Double = 30

    @Option(name: .customLong("keep-checkpoints"), help: "Training states kept in OUT/checkpoints (the newest).")
    var keepCheckpoints: Int = 2

    @Option(name: .customLong("resume"), help: ArgumentHelp("Continue from the newest valid state in OUT/checkpoints (bare --resume; a fresh start if there is none yet), or from PATH (a state file or a folder of states). What shapes the training (model, loss, data, batch, seed, optimiser, augmentation, precision) must be as before; threads, the long-run options, --out and --steps/--epochs may change.", valueName: "PATH"))
    var resume: String?

    @Option(name: .customLong("stall-timeout"), help: "Abort the job when no step completed for this many seconds (default: 10 × the slowest step so far, at least 120; 0: never).")
    var stallTimeout: Double?

    @OptionGroup(title: "Gradient exchange")
    var exchange: ExchangeOptions

    var policy: RunPolicy {
        var p = RunPolicy()
        p.everySteps = checkpointEvery
        p.minutes = checkpointMinutes
        p.keep = keepCheckpoints
        p.resume = resume.map { $0 == Self.newest ? .newest : .path($0) }
        p.stallTimeout = stallTimeout
        p.gradientExchange = exchange.settings
        return p
    }

    /// What a bare `--resume` stands for: no path can be spelt so.
    static let newest = "\u{1}newest"

    /// A bare `--resume` (last, or followed by another option) gets the value `newest`: the argument parser
    /// has no options with an optional value.
    static func normalise(_ arguments: [String]) -> [String] {
        arguments.enumerated().map { index, argument in
            guard argument == "--resume" else { return argument }
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            return next == nil || next!.hasPrefix("--") ? "--resume=\(newest)" : argument
        }
    }
}
