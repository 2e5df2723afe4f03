/// A seedable generator (xoshiro256**, seeded through SplitMix64). Swift's system RNG cannot be seeded.
public struct RandomGenerator: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        s0 = splitMix64(&sm); s1 = splitMix64(&sm); s2 = splitMix64(&sm); s3 = splitMix64(&sm)
    }

    /// A generator for one named stream derived from a seed, e.g. ("init", layer index) or ("shuffle", epoch).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: mixKey(seed, stream))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal by Box–Muller.
    public mutating func normal() -> Float {
        let u1 = Swift.max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// A permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int(next() % UInt64(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }
}

@inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

@inline(__always) func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A counter-based hash of (key, counter): random numbers that depend on *which* sample they are for,
/// not on the order in which a rank happens to draw them (dropout masks across rank counts).
@inline(__always) public func mixKey(_ key: UInt64, _ counter: UInt64) -> UInt64 {
    var s = key ^ (counter &* 0xD1B5_4A32_D192_ED03)
    return splitMix64(&s)
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
