import Foundation

/// The collectives L2C needs, behind one protocol: MPI across processes, or a single process.
///
/// Every call is collective: all ranks call it in the same order with the same counts.
/// Buffers are plain pointers so that tensors pass without copies.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }

    /// In place: buffer ← Σ over ranks of buffer.
    func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int)
    /// Starts an in-place sum like `allReduceSum` and returns at once; the buffer is summed when the request
    /// completes. Requests on one communicator complete in the order they were started. With `.bf16` the values
    /// travel as bfloat16 and every partial sum is formed in fp32 (then rounded to bf16 for the wire).
    func startAllReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, wire: WirePrecision) -> any CollectiveRequest
    /// In place, elementwise maximum over ranks.
    func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int)
    /// recv[r·count ..< (r+1)·count] ← send of rank r. `recv` holds count·size elements.
    func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>)
    func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>)
    /// The adjoint of allGather: recv ← Σ over ranks q of send_q[rank·count ..< (rank+1)·count].
    func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int)
    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int)
    func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int)
    func barrier()
    /// A communicator over the same ranks whose collectives never match this one's (MPI_Comm_dup), for a
    /// thread that runs collectives beside this communicator's. Collective: every rank calls it, in the same order.
    func duplicate() -> any Communicator
    /// The collective this rank is inside right now, nil between collectives (read by the stall watchdog
    /// from another thread).
    var pendingCollective: String? { get }
    /// Ends every rank of the job at once (MPI_Abort): for a rank that cannot reach the others any more.
    func abort(code: Int32) -> Never
}

/// This machine's host name, from gethostname: ProcessInfo.hostName asks the resolver, which may hang on a
/// lost network.
public func localHostName() -> String {
    var name = [CChar](repeating: 0, count: 256)
    gethostname(&name, name.count - 1)
    return String(cString: name)
}

/// How gradient values travel between ranks.
public enum WirePrecision: String, CaseIterable, Sendable {
    case fp32, bf16
}

/// bfloat16: the upper 16 bits of an fp32, rounded to nearest even.
public enum BFloat16 {
    @inline(__always) public static func bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    @inline(__always) public static func value(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    @inline(__always) public static func round(_ x: Float) -> Float { value(bits(x)) }
}

/// A nonblocking collective in progress.
public protocol CollectiveRequest: AnyObject {
    /// Advances the collective (Open MPI progresses it only inside MPI calls); true once it is complete.
    func test() -> Bool
}

public final class CompletedRequest: CollectiveRequest {
    public init() {}
    public func test() -> Bool { true }
}

/// Messages between two ranks, for measuring a link's latency and bandwidth (ping-pong).
public protocol PointToPoint {
    func send(_ buffer: UnsafePointer<Float>, count: Int, to rank: Int)
    func receive(_ buffer: UnsafeMutablePointer<Float>, count: Int, from rank: Int)
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }
    public var pendingCollective: String? { nil }
    /// Blocking, for communicators without nonblocking collectives: the request is complete when returned.
    /// bf16 is emulated: the values are rounded to bf16, summed in fp32 and the sum rounded to bf16.
    public func startAllReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, wire: WirePrecision) -> any CollectiveRequest {
        if wire == .bf16 { for i in 0..<count { buffer[i] = BFloat16.round(buffer[i]) } }
        allReduceSum(buffer, count: count)
        if wire == .bf16 { for i in 0..<count { buffer[i] = BFloat16.round(buffer[i]) } }
        return CompletedRequest()
    }
    public func abort(code: Int32) -> Never { exit(code) }

    public func max(_ value: Int64) -> Int64 {
        var v = value
        allReduceMax(&v, count: 1)
        return v
    }

    /// This rank's share of a global batch split evenly in rank order: `global.count / size` elements from
    /// position rank · global.count / size.
    public func share<T>(of global: [T]) -> ArraySlice<T> {
        let local = global.count / size
        return global[(rank * local)..<((rank + 1) * local)]
    }

    /// Every rank's value, in rank order.
    public func gather(_ value: Int64) -> [Int64] {
        var mine = value
        var all = [Int64](repeating: 0, count: size)
        all.withUnsafeMutableBufferPointer { allGather(&mine, count: 1, into: $0.baseAddress!) }
        return all
    }

    /// How many distinct hosts the ranks run on (by host name).
    public func hostCount() -> Int {
        // FNV-1a of the name: equal names, equal hashes on every rank.
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in localHostName().utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return Set(gather(Int64(bitPattern: hash))).count
    }

    /// Broadcast a string from `root` (used to ship configuration and error text).
    public func broadcast(_ text: String, root: Int = 0) -> String {
        var header = [UInt8](repeating: 0, count: 8)
        if rank == root { withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian) { header = Array($0) } }
        header.withUnsafeMutableBufferPointer { broadcast($0.baseAddress!, count: 8, root: root) }
        let count = Int(header.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        var payload = rank == root ? Array(text.utf8) : [UInt8](repeating: 0, count: count)
        if count > 0 { payload.withUnsafeMutableBufferPointer { broadcast($0.baseAddress!, count: count, root: root) } }
        return String(decoding: payload, as: UTF8.self)
    }
}
