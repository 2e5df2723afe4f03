import Foundation
import L2CComm
import L2CExperiments
import L2CRun
import L2CTensor

/// Latency α and inverse bandwidth β of the network between the actual ranks: ping-pong between the first and
/// the last rank, all-reduce, all-gather and reduce-scatter over message sizes from `minBytes` to `maxBytes`,
/// each fitted to its Hockney model (`HockneyModel`). Times are the slowest rank's.
public enum CommBenchmark {
    public struct Options {
        public var minBytes = 1 << 10
        public var maxBytes = 256 << 20
        /// Each size is this factor times the previous one.
        public var factor = 4
        /// Repeats per size: enough for about this many seconds, between 2 and `maxRepeats`.
        public var secondsPerSize = 0.25
        public var maxRepeats = 50

        public init() {}

        public var sizes: [Int] { Array(sequence(first: minBytes) { $0 * factor < maxBytes * 2 ? $0 * factor : nil }).filter { $0 <= maxBytes } }
    }

    public struct Measurement {
        public let collective: String
        public let bytes: Int
        public let seconds: Double
        public let repeats: Int
    }

    public struct Result {
        public var measurements: [Measurement] = []
        public var models: [HockneyModel.Collective: HockneyModel] = [:]
    }

    /// `progress` gets each measurement as it is taken (on every rank).
    public static func run(_ options: Options, communicator comm: any Communicator, progress: (Measurement) -> Void = { _ in }) throws -> Result {
        guard options.minBytes >= 4, options.maxBytes >= options.minBytes, options.factor >= 2 else {
            throw InputError("--max-mb", "needs sizes from at least 4 bytes up, growing by a factor of 2 or more")
        }
        let largest = options.maxBytes / 4 + 1
        // The gathered buffer holds p pieces of n/p: n floats at most; the others n.
        let send = Tensor(shape: [largest]), receive = Tensor(shape: [largest + comm.size])
        for i in 0..<send.count { send[i] = Float(i % 7) }
        var result = Result()
        for collective in HockneyModel.Collective.allCases {
            guard collective != .pingPong || comm.size > 1 else { continue }
            var samples: [(bytes: Double, seconds: Double)] = []
            for bytes in options.sizes {
                let floats = max(bytes / 4 / comm.size * comm.size, comm.size)
                func operation() {
                    switch collective {
                    case .pingPong: pingPong(send.data, floats: floats, comm)
                    case .allReduce: comm.allReduceSum(send.data, count: floats)
                    case .allGather: comm.allGather(send.data, count: floats / comm.size, into: receive.data)
                    case .reduceScatter: comm.reduceScatterSum(send.data, into: receive.data, countPerRank: floats / comm.size)
                    }
                }
                let first = timed(1, comm, operation)
                let repeats = Int(comm.max(Int64(min(max(Int(options.secondsPerSize / max(first, 1e-7)), 2), options.maxRepeats))))
                var seconds = timed(repeats, comm, operation) / Double(repeats)
                if collective == .pingPong { seconds /= 2 }   // one way
                let measurement = Measurement(collective: collective.rawValue, bytes: floats * 4, seconds: seconds, repeats: repeats)
                result.measurements.append(measurement)
                progress(measurement)
                samples.append((Double(floats * 4), seconds))
            }
            result.models[collective] = HockneyModel.fit(samples, collective: collective, ranks: comm.size)
        }
        return result
    }

    /// The slowest rank's seconds for `repeats` operations.
    private static func timed(_ repeats: Int, _ comm: any Communicator, _ operation: () -> Void) -> Double {
        comm.barrier()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { operation() }
        let mine = Int64(DispatchTime.now().uptimeNanoseconds - start)
        return Double(comm.max(mine)) / 1e9
    }

    /// The first rank sends to the last and gets the message back; the others wait.
    private static func pingPong(_ buffer: UnsafeMutablePointer<Float>, floats: Int, _ comm: any Communicator) {
        guard let link = comm as? any PointToPoint else { return }
        let last = comm.size - 1
        if comm.rank == 0 {
            link.send(buffer, count: floats, to: last)
            link.receive(buffer, count: floats, from: last)
        } else if comm.rank == last {
            link.receive(buffer, count: floats, from: 0)
            link.send(buffer, count: floats, to: 0)
        }
    }
}
