/// A flat gradient buffer cut into all-reduce buckets of a fixed size, from the end backwards: backward
/// finishes the last layers first, and their gradients lie at the end. Bucket 0 is the buffer's tail; the last
/// bucket starts at 0 and holds the spare floats. A parameter may span several buckets.
public struct GradientBuckets: Equatable {
    /// Float ranges of the buckets, in the order they are all-reduced.
    public let ranges: [Range<Int>]
    /// For each parameter, the buckets its gradient overlaps.
    public let bucketsOfParameter: [Range<Int>]
    /// For each bucket, how many parameters overlap it: it is ready when all of them are.
    public let parameterCounts: [Int]

    /// `parameterRanges` are the parameters' float ranges in a buffer of `count` floats; `bucketFloats` > 0.
    public init(parameterRanges: [Range<Int>], count: Int, bucketFloats: Int) {
        precondition(bucketFloats > 0, "buckets of \(bucketFloats) floats")
        var ranges: [Range<Int>] = []
        var end = count
        repeat {
            let start = max(0, end - bucketFloats)
            ranges.append(start..<end)
            end = start
        } while end > 0
        self.ranges = ranges
        // Bucket b covers [count − (b+1)·size, count − b·size) (the last one clipped at 0).
        func bucket(of offset: Int) -> Int { (count - 1 - offset) / bucketFloats }
        bucketsOfParameter = parameterRanges.map { range in
            range.isEmpty ? 0..<0 : bucket(of: range.upperBound - 1)..<(bucket(of: range.lowerBound) + 1)
        }
        var counts = [Int](repeating: 0, count: ranges.count)
        for buckets in bucketsOfParameter { for b in buckets { counts[b] += 1 } }
        parameterCounts = counts
    }

    public var count: Int { ranges.count }
}
