import Foundation

/// SIGUSR1, SIGTERM and SIGINT ask the run to stop at the next step boundary and save its state; a second
/// signal a second or more after the first ends the process at once (launchers often deliver one signal
/// twice at the same moment: Slurm to every task and srun forwarding it, so copies within a second count
/// once). The handler only records the signal; the training loop carries the request to every rank inside
/// the gradient all-reduce it makes anyway.
public enum StopSignal {
    public static let handled: [Int32] = [SIGUSR1, SIGTERM, SIGINT]

    /// Installs the handlers (idempotent).
    public static func install() {
        guard !installed else { return }
        installed = true
        for signal in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                // Only async-signal-safe calls here: clock_gettime and _exit.
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                if receivedSignal != 0 {
                    if now.tv_sec - firstSignalSecond >= 1 { _exit(128 + number) }
                    return
                }
                firstSignalSecond = now.tv_sec
                receivedSignal = number
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
    }

    /// The first signal received, 0 if none.
    public static var received: Int32 { receivedSignal }

    /// This rank's request as the slots the all-reduce sums: one per handled signal, 1 where it arrived.
    static var requestSlots: [Float] { handled.map { receivedSignal == $0 ? 1 : 0 } }

    /// The signal that `slots` (summed over ranks) asks to stop for, nil when none.
    static func signal(fromSummed slots: ArraySlice<Float>) -> Int32? {
        zip(handled, slots).first { $0.1 > 0 }?.0
    }

    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGUSR1: return "SIGUSR1"
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        default: return "signal \(signal)"
        }
    }

    nonisolated(unsafe) private static var installed = false
}

nonisolated(unsafe) private var receivedSignal: Int32 = 0
nonisolated(unsafe) private var firstSignalSecond = 0

/// A run that stopped on request after saving its state (exit code 3).
public struct StopRequested: Error, CustomStringConvertible {
    public let step: Int
    public let signal: Int32
    public let statePath: String?
    public var description: String {
        let saved = statePath.map { "state saved to \($0), resume with --resume" } ?? "no --out, so no state was saved"
        return "stopped at step \(step) by \(StopSignal.name(signal)), \(saved)"
    }
}
