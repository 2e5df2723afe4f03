import Foundation
import L2CBench
import L2CComm
import L2CData
import L2CExperiments
import L2CMPI
import L2CRun
import L2CTensor

/// Runs a command body under MPI: initialises it, sets the compute threads, prints the JSON result on
/// rank 0, and turns any error into a one-line message and a non-zero exit on every rank.
enum MPIRuntime {
    /// `stopsOnSignals`: a training command, whose loops stop at a step boundary on SIGUSR1/TERM/INT; the
    /// handlers go in before MPI starts, so that a signal sent during start-up is not fatal.
    static func run(threads: Int?, stopsOnSignals: Bool = false, _ body: (any Communicator) throws -> [String: Any]) -> Never {
        if stopsOnSignals { StopSignal.install() }
        let comm = MPICommunicator()
        ComputeThreads.set(threads ?? defaultThreads())
        do {
            try comm.requireAgreement("the build of l2c (every rank must run the same executable; hashes of /proc/self/exe)", buildIdentity)
            let result = try body(comm)
            if comm.isRoot { print(JSONLine.encode(result)) }
            fflush(stdout)
            comm.finalize()
            exit(0)
        } catch let stop as StopRequested {
            // Every rank saw the same request at the same step; rank 0 says where the state is.
            if comm.isRoot { FileHandle.standardError.write(Data("l2c: \(stop)\n".utf8)) }
            comm.finalize()
            exit(3)
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

    /// The first 64 bits of the SHA-256 of this executable: ranks running different builds fail at once.
    static var buildIdentity: Int64 {
        let digest = SHA256Digest.ofFile("/proc/self/exe") ?? SHA256Digest.ofFile(CommandLine.arguments[0]) ?? ""
        return Int64(bitPattern: UInt64(digest.prefix(16), radix: 16) ?? 0)
    }

    /// One thread per rank when the ranks fill the node's cores; otherwise share the cores evenly.
    static func defaultThreads() -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let localRanks = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        return max(1, cores / max(localRanks, 1))
    }
}
