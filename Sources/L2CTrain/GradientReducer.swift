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
    }

    public let flat: FlatParameters
    public let buckets: GradientBuckets
    public let overlap: Bool
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
        worker = overlap ? Worker(communicator: communicator.duplicate(), gradients: flat.gradients.data, ranges: buckets.ranges) : nil
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
            for b in nextBucket..<buckets.count { worker.submit(b) }
            timing.allReduceSeconds = worker.waitForAll()
            nextBucket = 0
            ready = [Bool](repeating: false, count: ready.count)
            pending = buckets.parameterCounts
        } else {
            communicator.allReduceSum(flat.gradients.data, count: flat.gradients.count)
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
        private let condition = NSCondition()
        private var queue: [Int] = []
        private var submitted = 0
        private var completed = 0
        private var busySeconds = 0.0
        private var closing = false

        init(communicator: any Communicator, gradients: UnsafeMutablePointer<Float>, ranges: [Range<Int>]) {
            self.communicator = communicator
            self.gradients = gradients
            self.ranges = ranges
            let thread = Thread { [self] in self.serve() }
            thread.name = "l2c-gradients"
            thread.start()
        }

        func submit(_ bucket: Int) {
            condition.lock()
            queue.append(bucket)
            submitted += 1
            condition.signal()
            condition.unlock()
        }

        /// Waits until every bucket handed over is summed; returns the seconds spent in all-reduces since the last call.
        func waitForAll() -> Double {
            condition.lock()
            while completed < submitted { condition.wait() }
            let seconds = busySeconds
            busySeconds = 0
            condition.unlock()
            return seconds
        }

        func close() {
            condition.lock()
            closing = true
            condition.broadcast()
            condition.unlock()
        }

        private func serve() {
            while true {
                condition.lock()
                while queue.isEmpty && !closing { condition.wait() }
                guard !queue.isEmpty else { condition.unlock(); return }
                let bucket = queue.removeFirst()
                condition.unlock()
                let start = DispatchTime.now().uptimeNanoseconds
                communicator.allReduceSumYielding(gradients + ranges[bucket].lowerBound, count: ranges[bucket].count)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                condition.lock()
                completed += 1
                busySeconds += seconds
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
