/// Minimum-cost perfect assignment on a square cost matrix (Kuhn–Munkres with potentials, O(n³)).
///
/// Returns `assignment[row] = column`. Rectangular problems are padded with zero-cost rows or columns
/// by the caller.
public func minimumCostAssignment(_ cost: [[Double]]) -> [Int] {
    let n = cost.count
    guard n > 0 else { return [] }
    precondition(cost.allSatisfy { $0.count == n }, "assignment needs a square matrix")
    // 1-based internally: column 0 is a virtual column holding the row being inserted.
    var rowPotential = [Double](repeating: 0, count: n + 1)
    var columnPotential = [Double](repeating: 0, count: n + 1)
    var rowOfColumn = [Int](repeating: 0, count: n + 1)
    var previousColumn = [Int](repeating: 0, count: n + 1)
    for row in 1...n {
        rowOfColumn[0] = row
        var column = 0
        var slack = [Double](repeating: .infinity, count: n + 1)
        var used = [Bool](repeating: false, count: n + 1)
        repeat {
            used[column] = true
            let i = rowOfColumn[column]
            var delta = Double.infinity
            var next = 0
            for j in 1...n where !used[j] {
                let reduced = cost[i - 1][j - 1] - rowPotential[i] - columnPotential[j]
                if reduced < slack[j] { slack[j] = reduced; previousColumn[j] = column }
                if slack[j] < delta { delta = slack[j]; next = j }
            }
            for j in 0...n {
                if used[j] {
                    rowPotential[rowOfColumn[j]] += delta
                    columnPotential[j] -= delta
                } else {
                    slack[j] -= delta
                }
            }
            column = next
        } while rowOfColumn[column] != 0
        // Augment along the alternating path back to the virtual column.
        repeat {
            let prev = previousColumn[column]
            rowOfColumn[column] = rowOfColumn[prev]
            column = prev
        } while column != 0
    }
    var assignment = [Int](repeating: 0, count: n)
    for j in 1...n where rowOfColumn[j] > 0 { assignment[rowOfColumn[j] - 1] = j - 1 }
    return assignment
}
