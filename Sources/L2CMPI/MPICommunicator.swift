import CMPI
import Foundation
import L2CComm

/// Open MPI behind the `Communicator` protocol, on MPI_COMM_WORLD (or a duplicate of it).
///
/// `MPI_Init_thread` runs once, in `init`; `finalize()` must be called once before exit.
/// Without mpirun the process is an MPI singleton of size 1.
/// An MPI request of a nonblocking collective; a bf16 one owns its staging buffer and writes the sums back
/// into the fp32 buffer when it completes.
final class MPIRequest: CollectiveRequest {
    var handle: MPI_Request? = nil
    private var done = false
    private let pending: UnsafeMutablePointer<Int>
    private let target: UnsafeMutablePointer<Float>
    private let count: Int
    let staging: UnsafeMutablePointer<UInt16>?

    init(pending: UnsafeMutablePointer<Int>, target: UnsafeMutablePointer<Float>, count: Int, wire: WirePrecision) {
        (self.pending, self.target, self.count) = (pending, target, count)
        if wire == .bf16 {
            let s = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
            for i in 0..<count { s[i] = BFloat16.bits(target[i]) }
            staging = s
        } else {
            staging = nil
        }
    }

    deinit { staging?.deallocate() }

    func test() -> Bool {
        guard !done else { return true }
        var flag: Int32 = 0
        MPI_Test(&handle, &flag, l2c_status_ignore())
        done = flag != 0
        if done {
            pending.pointee = 0
            if let staging { for i in 0..<count { target[i] = BFloat16.value(staging[i]) } }
        }
        return done
    }
}

public final class MPICommunicator: Communicator, PointToPoint {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm
    private var finalized = false
    /// Duplicates made of this communicator: the watchdog also reports a collective one of them waits in.
    private var duplicates: [MPICommunicator] = []
    private let duplicatesLock = NSLock()
    /// Index into `collectiveNames` of the collective in progress (0: none). One aligned word, written by
    /// this rank's training thread and read by its watchdog thread.
    private let pending = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private static let collectiveNames = [nil, "MPI_Allreduce", "MPI_Allgather", "MPI_Reduce_scatter_block", "MPI_Bcast", "MPI_Barrier"]

    public var pendingCollective: String? {
        let others = duplicatesLock.withLock { duplicates }
        return Self.collectiveNames[pending.pointee] ?? others.lazy.compactMap(\.pendingCollective).first.map { "\($0) (communication thread)" }
    }

    /// Runs one collective with its name published for the watchdog.
    @inline(__always) private func inside<T>(_ index: Int, _ body: () -> T) -> T {
        pending.pointee = index
        defer { pending.pointee = 0 }
        return body()
    }

    public init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided)
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(l2c_comm_world(), &r)
        MPI_Comm_size(l2c_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
        comm = l2c_comm_world()
        pending.initialize(to: 0)
    }

    private init(duplicating parent: MPICommunicator) {
        var copy: MPI_Comm? = nil
        MPI_Comm_dup(parent.comm, &copy)
        comm = copy!
        rank = parent.rank
        size = parent.size
        pending.initialize(to: 0)
    }

    public func duplicate() -> any Communicator {
        let copy = MPICommunicator(duplicating: self)
        duplicatesLock.withLock { duplicates.append(copy) }
        return copy
    }

    /// The MPI library's own version line.
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: 8192)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        return String(cString: buffer).split(separator: "\n").first.map(String.init) ?? ""
    }

    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    /// Ends every rank of the job at once: for errors met by one rank alone, outside any vote.
    public func abort(code: Int32) -> Never {
        MPI_Abort(l2c_comm_world(), code)
        fatalError("MPI_Abort returned")
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(1) { MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_float(), l2c_op_sum(), comm) }
    }

    /// MPI_Iallreduce on this communicator; bf16 through a staging buffer of bf16 values and a user-defined sum.
    public func startAllReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, wire: WirePrecision) -> any CollectiveRequest {
        guard size > 1, count > 0 else { return CompletedRequest() }
        let request = MPIRequest(pending: pending, target: buffer, count: count, wire: wire)
        switch wire {
        case .fp32:
            MPI_Iallreduce(l2c_in_place(), buffer, Int32(count), l2c_type_float(), l2c_op_sum(), comm, &request.handle)
        case .bf16:
            MPI_Iallreduce(l2c_in_place(), request.staging, Int32(count), l2c_type_uint16(), Self.bf16Sum, comm, &request.handle)
        }
        pending.pointee = 1   // the watchdog reports the all-reduce until the request completes
        return request
    }

    /// inout[i] ← bf16(fp32(in[i]) + fp32(inout[i])): the sum of two bf16 values formed in fp32, rounded once.
    private static let bf16Sum: MPI_Op = {
        var op: MPI_Op? = nil
        MPI_Op_create({ input, inout_, length, _ in
            guard let input, let inout_, let length else { return }
            let a = input.assumingMemoryBound(to: UInt16.self), b = inout_.assumingMemoryBound(to: UInt16.self)
            for i in 0..<Int(length.pointee) { b[i] = BFloat16.bits(BFloat16.value(a[i]) + BFloat16.value(b[i])) }
        }, 1, &op)
        return op!
    }()

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(1) { MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_double(), l2c_op_sum(), comm) }
    }

    public func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(1) { MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_int64(), l2c_op_max(), comm) }
    }

    public func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>) {
        _ = inside(2) { MPI_Allgather(send, Int32(count), l2c_type_float(), recv, Int32(count), l2c_type_float(), comm) }
    }

    public func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>) {
        _ = inside(2) { MPI_Allgather(send, Int32(count), l2c_type_int64(), recv, Int32(count), l2c_type_int64(), comm) }
    }

    public func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int) {
        _ = inside(3) { MPI_Reduce_scatter_block(send, recv, Int32(countPerRank), l2c_type_float(), l2c_op_sum(), comm) }
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(4) { MPI_Bcast(buffer, Int32(count), l2c_type_float(), Int32(root), comm) }
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(4) { MPI_Bcast(buffer, Int32(count), l2c_type_byte(), Int32(root), comm) }
    }

    public func send(_ buffer: UnsafePointer<Float>, count: Int, to rank: Int) {
        MPI_Send(buffer, Int32(count), l2c_type_float(), Int32(rank), 0, comm)
    }

    public func receive(_ buffer: UnsafeMutablePointer<Float>, count: Int, from rank: Int) {
        MPI_Recv(buffer, Int32(count), l2c_type_float(), Int32(rank), 0, comm, l2c_status_ignore())
    }

    public func barrier() { _ = inside(5) { MPI_Barrier(comm) } }
}
