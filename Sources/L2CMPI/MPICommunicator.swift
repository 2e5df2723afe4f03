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

    public init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided)
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(l2c_comm_world(), &r)
        MPI_Comm_size(l2c_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
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
        MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_float(), l2c_op_sum(), l2c_comm_world())
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) {
        guard size > 1, count > 0 else { return }
        MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_double(), l2c_op_sum(), l2c_comm_world())
    }

    public func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int) {
        guard size > 1, count > 0 else { return }
        MPI_Allreduce(l2c_in_place(), buffer, Int32(count), l2c_type_int64(), l2c_op_max(), l2c_comm_world())
    }

    public func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>) {
        MPI_Allgather(send, Int32(count), l2c_type_float(), recv, Int32(count), l2c_type_float(), l2c_comm_world())
    }

    public func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>) {
        MPI_Allgather(send, Int32(count), l2c_type_int64(), recv, Int32(count), l2c_type_int64(), l2c_comm_world())
    }

    public func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int) {
        MPI_Reduce_scatter_block(send, recv, Int32(countPerRank), l2c_type_float(), l2c_op_sum(), l2c_comm_world())
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) {
        guard size > 1, count > 0 else { return }
        MPI_Bcast(buffer, Int32(count), l2c_type_float(), Int32(root), l2c_comm_world())
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int) {
        guard size > 1, count > 0 else { return }
        MPI_Bcast(buffer, Int32(count), l2c_type_byte(), Int32(root), l2c_comm_world())
    }

    public func barrier() { MPI_Barrier(l2c_comm_world()) }
}
