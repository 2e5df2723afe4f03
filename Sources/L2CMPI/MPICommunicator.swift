import CMPI
import L2CComm

/// Open MPI behind the `Communicator` protocol, on MPI_COMM_WORLD.
///
/// `MPI_Init_thread` runs once, in `init`; `finalize()` must be called once before exit.
/// Without mpirun the process is an MPI singleton of size 1.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private var finalized = false
    /// Index into `collectiveNames` of the collective in progress (0: none). One aligned word, written by
    /// this rank's training thread and read by its watchdog thread.
    private let pending = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private static let collectiveNames = [nil, "MPI_Allreduce", "MPI_Allgather", "MPI_Reduce_scatter_block", "MPI_Bcast", "MPI_Barrier"]

    public var pendingCollective: String? { Self.collectiveNames[pending.pointee] }

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
        pending.initialize(to: 0)
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
        _ = inside(1) { MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_float(), l2c_op_sum(), l2c_comm_world()) }
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(1) { MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_double(), l2c_op_sum(), l2c_comm_world()) }
    }

    public func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(1) { MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_int64(), l2c_op_max(), l2c_comm_world()) }
    }

    public func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>) {
        _ = inside(2) { MPI_Allgather(send, Int32(count), l2c_type_float(), recv, Int32(count), l2c_type_float(), l2c_comm_world()) }
    }

    public func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>) {
        _ = inside(2) { MPI_Allgather(send, Int32(count), l2c_type_int64(), recv, Int32(count), l2c_type_int64(), l2c_comm_world()) }
    }

    public func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int) {
        _ = inside(3) { MPI_Reduce_scatter_block(send, recv, Int32(countPerRank), l2c_type_float(), l2c_op_sum(), l2c_comm_world()) }
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(4) { MPI_Bcast(buffer, Int32(count), l2c_type_float(), Int32(root), l2c_comm_world()) }
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int) {
        guard size > 1, count > 0 else { return }
        _ = inside(4) { MPI_Bcast(buffer, Int32(count), l2c_type_byte(), Int32(root), l2c_comm_world()) }
    }

    public func barrier() { _ = inside(5) { MPI_Barrier(l2c_comm_world()) } }
}
