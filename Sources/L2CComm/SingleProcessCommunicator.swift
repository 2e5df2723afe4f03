/// One rank, no other process: every collective is the identity (or a copy).
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {}
    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) {}
    public func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int) {}
    public func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>) {
        if recv != UnsafeMutablePointer(mutating: send) { recv.update(from: send, count: count) }
    }
    public func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>) {
        if recv != UnsafeMutablePointer(mutating: send) { recv.update(from: send, count: count) }
    }
    public func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int) {
        if recv != UnsafeMutablePointer(mutating: send) { recv.update(from: send, count: countPerRank) }
    }
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) {}
    public func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int) {}
    public func barrier() {}
    public func duplicate() -> any Communicator { SingleProcessCommunicator() }
}
