import L2CTensor

/// K-means with k-means++ seeding and several restarts (the best inertia wins), the clustering baseline.
///
/// Squared distances come from one GEMM per iteration: ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖².
public struct KMeans {
    public let clusters: Int
    public let restarts: Int
    public let iterations: Int
    public let seed: UInt64

    public init(clusters: Int, restarts: Int = 5, iterations: Int = 100, seed: UInt64 = 1) {
        self.clusters = clusters
        self.restarts = restarts
        self.iterations = iterations
        self.seed = seed
    }

    /// Cluster index of each row of `points` [n][d].
    public func fit(_ points: Tensor) -> [Int] {
        var best: (inertia: Double, assignment: [Int]) = (.infinity, [])
        for restart in 0..<max(restarts, 1) {
            var rng = RandomGenerator(seed: seed, stream: 0x4B4D &+ UInt64(restart))
            let result = lloyd(points, centers: seedCenters(points, rng: &rng))
            if result.inertia < best.inertia { best = result }
        }
        return best.assignment
    }

    /// k-means++: each next center drawn with probability ∝ squared distance to the nearest chosen one.
    func seedCenters(_ points: Tensor, rng: inout RandomGenerator) -> Tensor {
        let (n, d) = (points.rows, points.columns)
        let k = min(clusters, n)
        let centers = Tensor(shape: [k, d])
        var nearest = [Float](repeating: .infinity, count: n)
        var chosen = Int(rng.next() % UInt64(n))
        for c in 0..<k {
            (centers.data + c * d).update(from: points.data + chosen * d, count: d)
            var total = 0.0
            for i in 0..<n {
                var s: Float = 0
                for j in 0..<d { let diff = points[i * d + j] - centers[c * d + j]; s += diff * diff }
                nearest[i] = min(nearest[i], s)
                total += Double(nearest[i])
            }
            guard total > 0 else { chosen = Int(rng.next() % UInt64(n)); continue }
            var target = Double(rng.uniform()) * total
            chosen = n - 1
            for i in 0..<n {
                target -= Double(nearest[i])
                if target <= 0 { chosen = i; break }
            }
        }
        return centers
    }

    func lloyd(_ points: Tensor, centers: Tensor) -> (inertia: Double, assignment: [Int]) {
        let (n, d, k) = (points.rows, points.columns, centers.rows)
        var pointNorms = [Float](repeating: 0, count: n)
        for i in 0..<n { var s: Float = 0; for j in 0..<d { s += points[i * d + j] * points[i * d + j] }; pointNorms[i] = s }
        let products = Tensor(shape: [n, k])
        var assignment = [Int](repeating: -1, count: n)
        var inertia = 0.0
        for _ in 0..<iterations {
            gemm(points.data, centers.data, transposeB: true, products.data, m: n, n: k, k: d)
            var centerNorms = [Float](repeating: 0, count: k)
            for c in 0..<k { var s: Float = 0; for j in 0..<d { s += centers[c * d + j] * centers[c * d + j] }; centerNorms[c] = s }
            var changed = false
            inertia = 0
            for i in 0..<n {
                var bestCluster = 0, bestDistance = Float.infinity
                for c in 0..<k {
                    let distance = pointNorms[i] - 2 * products[i * k + c] + centerNorms[c]
                    if distance < bestDistance { bestDistance = distance; bestCluster = c }
                }
                if assignment[i] != bestCluster { assignment[i] = bestCluster; changed = true }
                inertia += Double(max(bestDistance, 0))
            }
            guard changed else { break }
            // New centers: the means of their points (an empty cluster keeps its center).
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                let c = assignment[i]
                counts[c] += 1
                for j in 0..<d { sums[c * d + j] += Double(points[i * d + j]) }
            }
            for c in 0..<k where counts[c] > 0 {
                for j in 0..<d { centers[c * d + j] = Float(sums[c * d + j] / Double(counts[c])) }
            }
        }
        return (inertia, assignment)
    }
}
