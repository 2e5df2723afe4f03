import CDNNL

/// Splits `count` items into `ComputeThreads.count` contiguous ranges run concurrently.
///
/// The ranges run on oneDNN's OpenMP threads (one GOMP parallel region): right after a convolution those
/// threads are still spinning for work, and a second thread pool would compete with them for the cores.
@inline(__always)
func parallelRanges(_ count: Int, _ body: (_ range: Range<Int>, _ worker: Int) -> Void) {
    // One worker too goes through the region: called inline, the kernels' loops compiled 2.5× slower.
    let workers = min(ComputeThreads.count, count)
    guard workers > 0 else { return }
    withoutActuallyEscaping(body) { body in
        let region = ParallelRegion(count: count, workers: workers, body: body)
        withExtendedLifetime(region) {
            GOMP_parallel({ context in
                let region = Unmanaged<ParallelRegion>.fromOpaque(context!).takeUnretainedValue()
                let w = Int(omp_get_thread_num())
                region.body((region.count * w / region.workers)..<(region.count * (w + 1) / region.workers), w)
            }, Unmanaged.passUnretained(region).toOpaque(), UInt32(workers), 0)
        }
    }
}

private final class ParallelRegion {
    let count: Int
    let workers: Int
    let body: (Range<Int>, Int) -> Void

    init(count: Int, workers: Int, body: @escaping (Range<Int>, Int) -> Void) {
        self.count = count
        self.workers = workers
        self.body = body
    }
}
