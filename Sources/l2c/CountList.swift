import L2CBench
import L2CComm
import L2CExperiments
import L2CRun

/// Counts ≥ 1 from "1,2,4" (rank or node counts), failing with one line naming `option`.
func parseCounts(_ text: String, option: String, what: String) throws -> [Int] {
    let counts = try text.split(separator: ",").map { piece -> Int in
        guard let n = Int(piece.trimmingCharacters(in: .whitespaces)), n >= 1 else {
            throw InputError(option, "expected \(what) counts ≥ 1 separated by commas, got '\(text)'")
        }
        return n
    }
    guard !counts.isEmpty else { throw InputError(option, "needs at least one \(what) count") }
    return counts
}
