/// Estimates the number of clusters from a network's assignments when K was set above the truth:
/// the clusters that receive at least `minimumShare` of the samples.
public struct ClusterCountEstimate: Sendable {
    public let minimumShare: Double

    public init(minimumShare: Double) { self.minimumShare = minimumShare }

    public func estimate(_ assignments: [Int]) -> Int {
        guard !assignments.isEmpty else { return 0 }
        var counts: [Int: Int] = [:]
        for a in assignments { counts[a, default: 0] += 1 }
        let threshold = minimumShare * Double(assignments.count)
        return counts.values.filter { Double($0) >= threshold }.count
    }
}
