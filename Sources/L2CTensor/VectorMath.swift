/// Natural logarithm of 16 positive, finite floats at once (relative error ≈ 1e-7).
///
/// x = m·2^e with m ∈ [√½, √2), and ln m = 2·atanh(z) = 2(z + z³/3 + z⁵/5 + z⁷/7 + z⁹/9 + …), z = (m − 1)/(m + 1),
/// |z| ≤ 0.172, so the series to z⁹ leaves a relative error below 1e-9 before float rounding.
@inlinable @inline(__always)
public func vectorLog(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
    var exponent = SIMD16<Int32>(truncatingIfNeeded: bits &>> 23) &- 127
    var mantissa = unsafeBitCast((bits & 0x007f_ffff) | 0x3f80_0000, to: SIMD16<Float>.self)
    let large = mantissa .> 1.414_213_5
    mantissa.replace(with: mantissa * 0.5, where: large)
    exponent.replace(with: exponent &+ 1, where: large)
    let z = (mantissa - 1) / (mantissa + 1)
    let z2 = z * z
    var series = SIMD16<Float>(repeating: 1.0 / 9)
    series = series * z2 + (1.0 / 7)
    series = series * z2 + (1.0 / 5)
    series = series * z2 + (1.0 / 3)
    series = series * z2 + 1
    return 2 * z * series + SIMD16<Float>(exponent) * 0.693_147_18
}
