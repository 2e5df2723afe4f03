import Foundation
import L2CComm
import L2CMPI
import L2CTensor
import L2CTrain

/// Runs a command body under MPI: initialises it, sets the compute threads, prints the JSON result on
/// rank 0, and turns any error into a one-line message and a non-zero exit on every rank.
enum MPIRuntime {
    static func run(threads: Int?, _ body: (any Communicator) throws -> [String: Any]) -> Never {
        let comm = MPICommunicator()
        ComputeThreads.set(threads ?? defaultThreads())
        do {
            let result = try body(comm)
            if comm.isRoot { print(JSONLine.encode(result)) }
            fflush(stdout)
            comm.finalize()
            exit(0)
        } catch let failure as PeerFailure {
            // The failing rank prints the cause; the others say why they stop.
            FileHandle.standardError.write(Data("l2c: error (rank \(comm.rank)): \(failure)\n".utf8))
            comm.finalize()
            exit(1)
        } catch {
            FileHandle.standardError.write(Data("l2c: error: \(error)\n".utf8))
            comm.finalize()
            exit(1)
        }
    }

    /// One thread per rank when the ranks fill the node's cores; otherwise share the cores evenly.
    static func defaultThreads() -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let localRanks = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        return max(1, cores / max(localRanks, 1))
    }
}
