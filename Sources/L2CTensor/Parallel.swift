import Foundation

/// Splits `count` items into `ComputeThreads.count` contiguous ranges run concurrently.
@inline(__always)
func parallelRanges(_ count: Int, _ body: (_ range: Range<Int>, _ worker: Int) -> Void) {
    let workers = min(ComputeThreads.count, count)
    if workers <= 1 {
        body(0..<count, 0)
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        body((count * w / workers)..<(count * (w + 1) / workers), w)
    }
}
