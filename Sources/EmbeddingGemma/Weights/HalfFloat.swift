/// IEEE 754 half-precision conversion that works on every platform
/// (Swift's `Float16` is unavailable on Intel Macs). Package-wide: the PostgreSQL store writes
/// pgvector's `halfvec` with it.
package enum HalfFloat {
    /// The float32 value of the half-precision bit pattern `bits`.
    package static func toFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    /// The half-precision bit pattern nearest to `value` (ties to even; overflow to infinity).
    package static func fromFloat(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        if value.isNaN { return sign | 0x7E00 }
        let magnitude = abs(value)
        if magnitude >= 65520 { return sign | 0x7C00 } // rounds past the largest half
        if magnitude < Float(sign: .plus, exponent: -14, significand: 1) {
            // Subnormal (or zero): units of 2^-24, rounded to nearest even.
            let units = (magnitude * Float(sign: .plus, exponent: 24, significand: 1)).rounded(.toNearestOrEven)
            return sign | UInt16(units)
        }
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        let mantissa = bits & 0x7F_FFFF
        var half = UInt32(exponent) << 10 | mantissa >> 13
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 } // carries into the exponent correctly
        return sign | UInt16(half)
    }
}
