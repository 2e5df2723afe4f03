import L2CTensor

/// The elementwise work of KCL and MCL on one row of pairs (i, 0..<N), 16 pairs at a time.
/// Each kernel overwrites the row in place with the pair coefficients the backward GEMMs need and returns
/// (Σ pair losses, known pairs). Unknown pairs (S = 0) contribute nothing and get coefficient 0.
enum PairKernels {
    @inline(__always)
    static func similarity(_ s: UnsafePointer<Int8>) -> SIMD16<Float> {
        SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(s).loadUnaligned(as: SIMD16<Int8>.self)))
    }

    /// KCL. In: row[j] = [(P+ε)_i · ln(P+ε)_j], entropy = h_i, so kld_ij = h_i − row[j].
    /// Out: row[j] = a_ij = +1 (similar), −1 (dissimilar with kld < m), 0 otherwise.
    @inline(__always)
    static func kcl(_ row: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Int8>, count n: Int, entropy h: Float, margin m: Float) -> (Double, Int) {
        var loss = SIMD16<Float>(), known = SIMD16<Float>()
        let one = SIMD16<Float>(repeating: 1), zero = SIMD16<Float>()
        var j = 0
        while j + 16 <= n {
            let kld = h - UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
            let sim = similarity(s + j)
            let similar = sim .> 0, dissimilar = sim .< 0
            let active = dissimilar .& (kld .< m)
            loss += zero.replacing(with: kld, where: similar).replacing(with: m - kld, where: active)
            known += zero.replacing(with: one, where: similar .| dissimilar)
            let a = zero.replacing(with: one, where: similar).replacing(with: -one, where: active)
            UnsafeMutableRawPointer(row + j).storeBytes(of: a, as: SIMD16<Float>.self)
            j += 16
        }
        var tailLoss: Float = 0, tailKnown = 0
        while j < n {
            let kld = h - row[j]
            switch s[j] {
            case 1: tailLoss += kld; row[j] = 1; tailKnown += 1
            case -1:
                tailKnown += 1
                if kld < m { tailLoss += m - kld; row[j] = -1 } else { row[j] = 0 }
            default: row[j] = 0
            }
            j += 1
        }
        return (Double(loss.sum() + tailLoss), Int(known.sum()) + tailKnown)
    }

    /// MCL. In: row[j] = t_ij = p_i·p_j. Out: row[j] = D_ij = dℓ/dt = −1/(t+ε) (similar), 1/(1−t+ε) (dissimilar), 0.
    @inline(__always)
    static func mcl(_ row: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Int8>, count n: Int, epsilon: Float) -> (Double, Int) {
        var loss = SIMD16<Float>(), known = SIMD16<Float>()
        let one = SIMD16<Float>(repeating: 1), zero = SIMD16<Float>()
        var j = 0
        while j + 16 <= n {
            let t = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
            let sim = similarity(s + j)
            let similar = sim .> 0, isKnown = sim .!= 0
            // u = t + ε for similar pairs, 1 − t + ε otherwise (1 for unknown pairs: ln 1 = 0).
            let u = (1 - t + epsilon).replacing(with: t + epsilon, where: similar).replacing(with: one, where: .!isKnown)
            loss -= vectorLog(u)
            known += zero.replacing(with: one, where: isKnown)
            let inverse = 1 / u
            let d = zero.replacing(with: inverse, where: isKnown).replacing(with: -inverse, where: similar)
            UnsafeMutableRawPointer(row + j).storeBytes(of: d, as: SIMD16<Float>.self)
            j += 16
        }
        var tailLoss: Float = 0, tailKnown = 0
        while j < n {
            let t = row[j]
            switch s[j] {
            case 1: tailLoss -= logf(t + epsilon); row[j] = -1 / (t + epsilon); tailKnown += 1
            case -1: tailLoss -= logf(1 - t + epsilon); row[j] = 1 / (1 - t + epsilon); tailKnown += 1
            default: row[j] = 0
            }
            j += 1
        }
        return (Double(loss.sum() + tailLoss), Int(known.sum()) + tailKnown)
    }
}

import Foundation
