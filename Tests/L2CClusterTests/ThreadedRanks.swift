import Foundation
import L2CComm

/// R ranks as R threads of one process, for checking how an algorithm splits over ranks in a unit test
/// (the MPI tests launch real ranks). Each collective publishes every rank's buffer, waits at a barrier,
/// reads the others', and waits again.
final class ThreadedRanks: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    fileprivate var slots: [UnsafeRawPointer?]
    /// Duplicates by sequence number: each rank's n-th `duplicate()` joins the same one.
    private var duplicates: [Int: ThreadedRanks] = [:]
    private let duplicatesLock = NSLock()

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    fileprivate func barrier() {
        condition.lock()
        let current = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == current { condition.wait() }
        }
        condition.unlock()
    }

    fileprivate func duplicate(_ sequence: Int) -> ThreadedRanks {
        duplicatesLock.withLock {
            if let existing = duplicates[sequence] { return existing }
            let created = ThreadedRanks(size: size)
            duplicates[sequence] = created
            return created
        }
    }

    /// Runs `body(rank, communicator)` on every rank concurrently and returns the results in rank order.
    func run<T>(_ body: @escaping (Int, any Communicator) -> T) -> [T] {
        let results = RankResults<T>(count: size)
        let group = DispatchGroup()
        for rank in 0..<size {
            group.enter()
            Thread.detachNewThread {
                results.set(rank, body(rank, ThreadedCommunicator(ranks: self, rank: rank)))
                group.leave()
            }
        }
        group.wait()
        return results.values.map { $0! }
    }
}

/// Each rank's result, written under a lock from the rank's thread.
private final class RankResults<T>: @unchecked Sendable {
    private(set) var values: [T?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ rank: Int, _ value: T) { lock.withLock { values[rank] = value } }
}

private final class ThreadedCommunicator: Communicator {
    let ranks: ThreadedRanks
    let rank: Int
    var size: Int { ranks.size }
    private var duplicatesMade = 0

    init(ranks: ThreadedRanks, rank: Int) {
        self.ranks = ranks
        self.rank = rank
    }

    func duplicate() -> any Communicator {
        duplicatesMade += 1
        return ThreadedCommunicator(ranks: ranks.duplicate(duplicatesMade), rank: rank)
    }

    /// Publishes `mine`, lets `combine` read every rank's buffer, then waits until all have read.
    private func exchange<T>(_ mine: UnsafePointer<T>, _ combine: ([UnsafePointer<T>]) -> Void) {
        ranks.slots[rank] = UnsafeRawPointer(mine)
        ranks.barrier()
        combine(ranks.slots.map { $0!.assumingMemoryBound(to: T.self) })
        ranks.barrier()
    }

    private func reduceInPlace<T: Numeric>(_ buffer: UnsafeMutablePointer<T>, count: Int, _ op: (T, T) -> T) {
        let copy = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(count, 1))
        defer { copy.deallocate() }
        copy.update(from: buffer, count: count)
        exchange(UnsafePointer(copy)) { all in
            for i in 0..<count { buffer[i] = all.dropFirst().reduce(all[0][i]) { op($0, $1[i]) } }
        }
    }

    func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) { reduceInPlace(buffer, count: count, +) }
    func allReduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) { reduceInPlace(buffer, count: count, +) }
    func allReduceMax(_ buffer: UnsafeMutablePointer<Int64>, count: Int) { reduceInPlace(buffer, count: count) { Swift.max($0, $1) } }

    func allGather(_ send: UnsafePointer<Float>, count: Int, into recv: UnsafeMutablePointer<Float>) {
        exchange(send) { all in for (r, p) in all.enumerated() { (recv + r * count).update(from: p, count: count) } }
    }

    func allGather(_ send: UnsafePointer<Int64>, count: Int, into recv: UnsafeMutablePointer<Int64>) {
        exchange(send) { all in for (r, p) in all.enumerated() { (recv + r * count).update(from: p, count: count) } }
    }

    func reduceScatterSum(_ send: UnsafePointer<Float>, into recv: UnsafeMutablePointer<Float>, countPerRank: Int) {
        exchange(send) { all in
            for i in 0..<countPerRank { recv[i] = all.dropFirst().reduce(all[0][rank * countPerRank + i]) { $0 + $1[rank * countPerRank + i] } }
        }
    }

    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int, root: Int) {
        exchange(UnsafePointer(buffer)) { all in if rank != root { buffer.update(from: all[root], count: count) } }
    }

    func broadcast(_ buffer: UnsafeMutablePointer<UInt8>, count: Int, root: Int) {
        exchange(UnsafePointer(buffer)) { all in if rank != root { buffer.update(from: all[root], count: count) } }
    }

    func barrier() { ranks.barrier() }
}
