import Foundation

/// Seconds spent in collectives, summed by whoever times them (read between steps by the training loop).
public final class CollectiveTime: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0.0

    public init() {}

    /// Synchronised BatchNorm's statistics and gradients, on the training thread.
    public static let batchNorm = CollectiveTime()

    public var seconds: Double { lock.withLock { total } }

    func add(_ seconds: Double) { lock.withLock { total += seconds } }
}

/// Another communicator's collectives, timed into a `CollectiveTime`.
public final class TimedCommunicator: Communicator {
    public let base: any Communicator
    public let time: CollectiveTime

    public init(_ base: any Communicator, into time: CollectiveTime) {
        self.base = base
        self.time = time
    }

    public var rank: Int { base.rank }
    public var size: Int { base.size }
    public var pendingCollective: String? { base.pendingCollective }

    @inline(__always) private func timed<T>(_ body: () -> T) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { time.add(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        return body()
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) { timed { base.allReduceSum(buffer, count: count) } }
    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) { timed { base.allReduceSum(buffer, count: count) } }
    public func startAllReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, wire: WirePrecision) -> any CollectiveRequest {
        timed { base.startAllReduceSum(buffer, count: count, wire: wire) }
    }
    public func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int) { timed { base.allReduceMax(buffer, count: count) } }
    public func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>) {
        timed { base.allGather(send, count: count, into: recv) }
    }
    public func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>) {
        timed { base.allGather(send, count: count, into: recv) }
    }
    public func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int) {
        timed { base.reduceScatterSum(send, into: recv, countPerRank: countPerRank) }
    }
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) { timed { base.broadcast(buffer, count: count, root: root) } }
    public func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int) { timed { base.broadcast(buffer, count: count, root: root) } }
    public func barrier() { timed { base.barrier() } }
    public func duplicate() -> any Communicator { base.duplicate() }
    public func abort(code: Int32) -> Never { base.abort(code: code) }
}
