import Foundation
import L2CComm
import L2CTensor

/// The gradient all-reduce of each training step: Σ over ranks of the flat gradient buffer. Each rank's
/// gradient is its share of the global-batch loss, so the sum is the global gradient.
///
/// With overlap, the buffer travels in buckets (`GradientBuckets`) on a communication thread with its own
/// communicator (a duplicate, so that synchronised BatchNorm's collectives on the training thread never
/// interleave with these): as backward finishes a layer (`BackwardObserver`), the buckets its gradients
/// complete are handed over, strictly in bucket order so that every rank issues the same collectives. `finish`
/// hands over the rest, the last bucket with the loop's control values in the spare floats, and waits.
/// Without overlap, `finish` sums the whole buffer in one blocking all-reduce.
public final class GradientReducer: BackwardObserver {
    /// Seconds of one step's exchange: the all-reduces in total, and the part the training thread waited for.
    public struct Timing {
        public var allReduceSeconds = 0.0
        public var exposedSeconds = 0.0
        /// CPU time the communication thread used (it shares the cores with the compute threads).
        public var threadCPUSeconds = 0.0
    }

    public let flat: FlatParameters
    public let buckets: GradientBuckets
    public let overlap: Bool
    public let precision: WirePrecision
    private let communicator: any Communicator
    /// Which parameters (indices into the flat order) a layer owns, for layers whose backward is observed.
    private var parametersOfLayer: [ObjectIdentifier: [Int]] = [:]
    private let parameterIndex: [ObjectIdentifier: Int]
    // The step in progress (training thread only).
    private var ready: [Bool]
    private var pending: [Int]
    private var nextBucket = 0
    private let worker: Worker?

    /// Sets up the exchange of `flat` (built from `parameters`, in that order). With overlap and several ranks,
    /// duplicates `communicator`: collective, every rank must build its reducers in the same order.
    public init(flat: FlatParameters, parameters: [(name: String, parameter: Parameter)], communicator: any Communicator,
                exchange: GradientExchange) {
        self.flat = flat
        self.communicator = communicator
        overlap = exchange.overlap && communicator.size > 1
        buckets = GradientBuckets(parameterRanges: flat.gradientRanges, count: flat.gradients.count, bucketFloats: exchange.bucketFloats)
        parameterIndex = Dictionary(uniqueKeysWithValues: parameters.enumerated().map { (ObjectIdentifier($1.parameter), $0) })
        ready = [Bool](repeating: false, count: parameters.count)
        pending = buckets.parameterCounts
        precision = exchange.precision
        worker = overlap ? Worker(communicator: communicator.duplicate(), gradients: flat.gradients.data, ranges: buckets.ranges,
                                  precision: exchange.precision) : nil
    }

    deinit { worker?.close() }

    /// Starts sending gradients during `model.backward`, as its layers (those of nested `Sequential`s
    /// included) finish. Parameters outside it travel when `finish` is called.
    public func watch(_ model: Sequential) {
        guard overlap else { return }
        watch(model.layers.map(\.layer))
        model.observeBackward(self)
    }

    /// Maps each layer (nested `Sequential`s opened) to its parameters, for a caller that reports
    /// `backwardFinished` itself.
    public func watch(_ layers: [any Layer]) {
        guard overlap else { return }
        for layer in layers {
            if let nested = layer as? Sequential {
                watch(nested.layers.map(\.layer))
            } else {
                parametersOfLayer[ObjectIdentifier(layer)] = layer.parameters.compactMap { parameterIndex[ObjectIdentifier($0.parameter)] }
            }
        }
    }

    public func backwardFinished(_ layer: any Layer) {
        guard let worker, let owned = parametersOfLayer[ObjectIdentifier(layer)] else { return }
        for p in owned where !ready[p] {
            ready[p] = true
            for b in buckets.bucketsOfParameter[p] { pending[b] -= 1 }
        }
        // The last bucket carries the control values: it waits for `finish`.
        while nextBucket < buckets.count - 1 && pending[nextBucket] == 0 {
            worker.submit(nextBucket)
            nextBucket += 1
        }
    }

    /// Completes the step's exchange; `control` rides in the spare floats and comes back summed over ranks
    /// (the loop's stop and checkpoint requests cost no extra round trip).
    @discardableResult
    public func finish(control: inout [Float]) -> Timing {
        precondition(control.count <= flat.spare, "\(control.count) control values for \(flat.spare) spare floats")
        guard communicator.size > 1 else { return Timing() }
        let slots = flat.spareSlots
        for i in 0..<slots.count { slots[i] = i < control.count ? control[i] : 0 }
        let start = DispatchTime.now().uptimeNanoseconds
        var timing = Timing()
        if let worker {
            worker.backwardFinished()
            for b in nextBucket..<buckets.count { worker.submit(b) }
            (timing.allReduceSeconds, timing.threadCPUSeconds) = worker.waitForAll()
            nextBucket = 0
            ready = [Bool](repeating: false, count: ready.count)
            pending = buckets.parameterCounts
        } else if precision == .fp32 {
            communicator.allReduceSum(flat.gradients.data, count: flat.gradients.count)
        } else {
            let request = communicator.startAllReduceSum(flat.gradients.data, count: flat.gradients.count, wire: precision)
            while !request.test() {}
        }
        timing.exposedSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if worker == nil { timing.allReduceSeconds = timing.exposedSeconds }
        for i in 0..<control.count { control[i] = slots[i] }
        return timing
    }

    /// Ends the communication thread (after the buckets handed over so far).
    public func close() { worker?.close() }

    /// The communication thread: all-reduces the buckets it is handed, in order.
    private final class Worker: @unchecked Sendable {
        private let communicator: any Communicator
        private let gradients: UnsafeMutablePointer<Float>
        private let ranges: [Range<Int>]
        private let precision: WirePrecision
        private let condition = NSCondition()
        private var queue: [Int] = []
        private var submitted = 0
        private var completed = 0
        private var busySeconds = 0.0
        private var cpuSeconds = 0.0
        private var closing = false
        /// Backward has finished: no BatchNorm collectives wait behind the buckets any more, all may fly at once.
        private var unlimited = false

        init(communicator: any Communicator, gradients: UnsafeMutablePointer<Float>, ranges: [Range<Int>], precision: WirePrecision) {
            self.communicator = communicator
            self.precision = precision
            self.gradients = gradients
            self.ranges = ranges
            let thread = Thread { [self] in self.serve() }
            thread.name = "l2c-gradients"
            thread.start()
        }

        func backwardFinished() {
            condition.lock()
            unlimited = true
            condition.unlock()
        }

        func submit(_ bucket: Int) {
            condition.lock()
            queue.append(bucket)
            submitted += 1
            condition.signal()
            condition.unlock()
        }

        /// Waits until every bucket handed over is summed; returns the seconds with buckets in flight since the
        /// last call, and the thread's CPU seconds in them.
        func waitForAll() -> (seconds: Double, cpu: Double) {
            condition.lock()
            while completed < submitted { condition.wait() }
            unlimited = false
            let result = (busySeconds, cpuSeconds)
            (busySeconds, cpuSeconds) = (0, 0)
            condition.unlock()
            return result
        }

        private static func threadCPUSeconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }

        func close() {
            condition.lock()
            closing = true
            condition.broadcast()
            condition.unlock()
        }

        /// At most this many buckets in flight during backward: enough to keep a link busy between polls, few enough
        /// that little gradient traffic queues ahead of synchronised BatchNorm's small collectives on the same links.
        static let maxInFlight = 4
        /// Polls for progress back off from the first to the second while nothing starts or completes: a
        /// blocking all-reduce would spin on a core the compute threads need. More bytes in flight delay BatchNorm's
        /// collectives behind them, longer sleeps leave the link idle (BENCHMARKS.md, "Overlapping the gradient
        /// all-reduce", has the measurements).
        static let pollMicroseconds: (first: UInt32, last: UInt32) = (20, 200)

        private func serve() {
            var inFlight: [any CollectiveRequest] = []
            var pause = Self.pollMicroseconds.first
            var activeSince: (wall: UInt64, cpu: Double)?
            while true {
                condition.lock()
                while queue.isEmpty && inFlight.isEmpty && !closing { condition.wait() }
                if queue.isEmpty && inFlight.isEmpty { condition.unlock(); return }
                var starting: [Int] = []
                let limit = unlimited ? Int.max : Self.maxInFlight
                while inFlight.count + starting.count < limit && !queue.isEmpty { starting.append(queue.removeFirst()) }
                condition.unlock()
                if activeSince == nil { activeSince = (DispatchTime.now().uptimeNanoseconds, Self.threadCPUSeconds()) }
                for bucket in starting {
                    inFlight.append(communicator.startAllReduceSum(gradients + ranges[bucket].lowerBound, count: ranges[bucket].count, wire: precision))
                }
                // Requests complete in order; testing the oldest progresses them all.
                var finished = 0
                while let oldest = inFlight.first, oldest.test() {
                    inFlight.removeFirst()
                    finished += 1
                }
                if finished > 0 {
                    var active = (seconds: 0.0, cpu: 0.0)
                    if inFlight.isEmpty, let since = activeSince {
                        active = (Double(DispatchTime.now().uptimeNanoseconds - since.wall) / 1e9, Self.threadCPUSeconds() - since.cpu)
                        activeSince = nil
                    }
                    condition.lock()
                    completed += finished
                    busySeconds += active.seconds
                    cpuSeconds += active.cpu
                    condition.broadcast()
                    condition.unlock()
                }
                if starting.isEmpty && finished == 0 {
                    usleep(pause)
                    pause = min(pause * 2, Self.pollMicroseconds.last)
                } else {
                    pause = Self.pollMicroseconds.first
                }
            }
        }
    }
}
