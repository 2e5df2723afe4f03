import Foundation
import L2CData
import L2CTensor

/// Writes states on a background thread of rank 0, one at a time, so that the other ranks (and rank 0's
/// training) pause only for the copy of the tensors. An error of a write surfaces at the next save or at
/// `finish`, where every rank learns of it.
final class StateWriter: @unchecked Sendable {
    let folder: StateFolder
    let keep: Int
    /// States with a lower sequence belong to an earlier run and are never pruned.
    let keepingBelow: Int
    private let queue = DispatchQueue(label: "l2c-state-writer")
    private let lock = NSLock()
    private var failure: Error?
    private var lastWrite = 0.0
    var lastWriteSeconds: Double { lock.lock(); defer { lock.unlock() }; return lastWrite }

    init(folder: StateFolder, keep: Int, keepingBelow: Int) {
        self.folder = folder
        self.keep = keep
        self.keepingBelow = keepingBelow
    }

    /// The buffer of the last written snapshot, for the next one: in steady state rank 0 holds one copy of the state.
    private var spare: [Tensor] = []

    /// A buffer for the next snapshot's copy, from an earlier one when one is free.
    func takeBuffer() -> Tensor? {
        lock.lock(); defer { lock.unlock() }
        return spare.popLast()
    }

    /// Allocates (and faults in) a buffer of `count` floats on the writer thread, so that even the first
    /// snapshot only copies.
    func prepareBuffer(count: Int) {
        queue.async { [self] in
            lock.lock(); let needed = spare.first?.count != count; lock.unlock()
            guard needed else { return }
            let buffer = Tensor(shape: [count])
            lock.lock(); spare = [buffer]; lock.unlock()
        }
    }

    func submit(_ snapshot: Checkpoint.Snapshot, to path: String) {
        queue.async { [self] in
            let start = Date()
            do {
                try snapshot.write(to: path)
                folder.prune(keep: keep, from: keepingBelow)
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
            lock.lock()
            lastWrite = Date().timeIntervalSince(start)
            if spare.isEmpty { spare.append(snapshot.payload) }
            lock.unlock()
        }
    }

    /// Waits for the writes in flight; rethrows the first that failed.
    func finish() throws {
        queue.sync {}
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
    }

    /// Rethrows a failed earlier write without waiting.
    func checkFailure() throws {
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
    }
}
