import Foundation
import L2CComm

/// Ends a job whose rank has stopped making progress: a peer that was SIGSTOPped, a link that went down.
/// Every rank runs one; while a training loop is armed and no step has completed for the stall timeout, it
/// prints the step and the collective this rank is waiting in, and aborts the whole job (MPI_Abort). Should
/// the abort itself hang (the launcher cannot reach a lost host), the process exits on its own 5 s later.
public final class Watchdog: @unchecked Sendable {
    /// Exit code of a job the watchdog ended.
    public static let exitCode: Int32 = 4
    /// Seconds between the report and the abort.
    static let graceSeconds = 5.0
    let communicator: any Communicator
    /// nil: ten times the slowest step so far, at least 120 s; 0: disabled.
    let timeout: Double?
    private let lock = NSLock()
    private var armed = false
    private var lastProgress = Date()
    private var step = 0
    private var label = ""
    private var slowestStep = 0.0
    private var thread: Thread?
    /// When this rank first saw a stop signal inside a loop, and the step it was on.
    private var signalSeen: (at: Date, step: Int)?

    public init(timeout: Double?, communicator: any Communicator) {
        self.timeout = timeout
        self.communicator = communicator
    }

    /// The limit in force: the option, or 10 × the slowest step and at least 120 s.
    var limit: Double { timeout ?? max(120, 10 * slowestStep) }

    /// Starts watching a loop (`label` names it in the message) that is about to run step `step`.
    public func arm(label: String, step: Int) {
        guard timeout != 0 else { return }
        lock.lock()
        (armed, lastProgress, self.step, self.label) = (true, Date(), step, label)
        if thread == nil {
            // The thread keeps the watchdog alive: it may wake after the run's session is gone, until the process exits.
            let thread = Thread { [self] in self.watch() }
            thread.name = "l2c-watchdog"
            self.thread = thread
            thread.start()
        }
        lock.unlock()
    }

    /// A step completed.
    public func progress(step: Int) {
        lock.lock()
        let now = Date()
        slowestStep = max(slowestStep, now.timeIntervalSince(lastProgress))
        (lastProgress, self.step) = (now, step)
        lock.unlock()
    }

    public func disarm() {
        lock.lock()
        armed = false
        lock.unlock()
    }

    /// How long a rank asked to stop may take to reach the step boundary where it saves its state.
    var stopGrace: Double { max(0.5, 2 * slowestStep) }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: 0.25)
            lock.lock()
            let isArmed = armed
            let stalled = armed ? Date().timeIntervalSince(lastProgress) : 0
            let (limit, step, label) = (self.limit, self.step, self.label)
            if armed && StopSignal.received != 0 && signalSeen == nil { signalSeen = (Date(), step) }
            let stuckAfterSignal = armed && signalSeen.map { $0.step == step && Date().timeIntervalSince($0.at) > stopGrace } ?? false
            lock.unlock()
            if stuckAfterSignal {
                // Asked to stop but the step cannot finish: a peer is gone (Slurm and mpirun signal the survivors
                // of a dead rank) and SIGKILL would follow after the launcher's grace. Leave at once.
                let signal = StopSignal.received
                let waiting = communicator.pendingCollective.map { "waiting in \($0)" } ?? "not inside a collective"
                fputs("l2c: error: rank \(communicator.rank): \(StopSignal.name(signal)) arrived but \(label) step \(step + 1) did not finish within \(Int(stopGrace.rounded(.up))) s (\(waiting)); exiting without a new state\n", stderr)
                fflush(stderr)
                _exit(128 + signal)
            }
            guard isArmed, stalled > limit else { continue }
            let waiting = communicator.pendingCollective.map { "waiting in \($0)" } ?? "not inside a collective"
            let host = localHostName()
            fputs("l2c: error: rank \(communicator.rank) on \(host): no step completed for \(Int(stalled)) s (\(label) step \(step + 1), \(waiting)); aborting the job (--stall-timeout \(Int(limit)) s)\n", stderr)
            fflush(stderr)
            // A grace before the abort: mpirun's output forwarding passes the line on, and a launcher that
            // notices a lost host by itself (TCP keepalive on its daemons' links) ends the job cleanly; an
            // MPI_Abort sent towards an unreachable host would instead leave mpirun waiting for it.
            Thread.sleep(forTimeInterval: Watchdog.graceSeconds)
            let fallback = Thread { Thread.sleep(forTimeInterval: 5); _exit(Watchdog.exitCode) }
            fallback.start()
            communicator.abort(code: Watchdog.exitCode)
        }
    }
}
