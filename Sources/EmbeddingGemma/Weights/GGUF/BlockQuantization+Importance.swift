extension BlockQuantization {
    /// The code range of a block type: Q4_0 codes stand for −8…7, Q8_0 codes for −127…127.
    static func codeRange(_ type: GGMLType) -> (low: Float, high: Float) {
        type == .q4_0 ? (-8, 7) : (-127, 127)
    }

    /// The float16-rounded scale of one block of 32 `values` of a Q4_0 / Q8_0 matrix that
    /// minimises the importance-weighted squared error `Σ wᵢ (xᵢ − d·qᵢ)²` (0 for an all-zero
    /// block). `weights` holds one non-negative weight per value.
    ///
    /// Scales around the plain one (the value of largest magnitude mapped to an end of the code
    /// range, ±11 % in 1.25 % steps; both ends for Q4_0's asymmetric range) give codes by rounding;
    /// for each set of codes the weighted least-squares scale `d = Σ w x q / Σ w q²` is exact and
    /// leaves the error `Σ w x² − (Σ w x q)² / Σ w q²`, so the codes with the largest
    /// `(Σ w x q)² / Σ w q²` win. That choice is then checked against the plain scale, with the
    /// codes both really store (rounded with the float16 scale), so it is never worse than the plain
    /// one. Without any weight the plain scale is returned.
    static func weightedScale(_ values: UnsafePointer<Float>, weights: UnsafePointer<Float>, type: GGMLType) -> Float {
        let (low, high) = codeRange(type)
        var amax: Float = 0
        var extreme: Float = 0
        var anyWeight = false
        for i in 0..<blockSize {
            if amax < abs(values[i]) {
                amax = abs(values[i])
                extreme = values[i]
            }
            anyWeight = anyWeight || weights[i] > 0
        }
        guard amax > 0, amax.isFinite else { return 0 }
        let plain = HalfFloat.toFloat(HalfFloat.fromFloat(type == .q4_0 ? extreme / low : amax / high))
        guard anyWeight else { return plain }
        var bestFit: Float = 0
        var bestScale = plain
        for end in type == .q4_0 ? [low, high] : [high] {
            for step in -9...9 {
                let inverse = end * (1 + Float(step) * 0.0125) / extreme
                var sumXQ: Float = 0
                var sumQQ: Float = 0
                for i in 0..<blockSize {
                    let q = code(values[i] * inverse, low: low, high: high)
                    sumXQ += weights[i] * values[i] * q
                    sumQQ += weights[i] * q * q
                }
                guard sumQQ > 0, sumXQ * sumXQ > bestFit * sumQQ else { continue }
                let scale = HalfFloat.toFloat(HalfFloat.fromFloat(sumXQ / sumQQ))
                guard scale.isFinite, scale != 0 else { continue }
                bestFit = sumXQ * sumXQ / sumQQ
                bestScale = scale
            }
        }
        guard bestScale != plain else { return plain }
        let (searched, original) = (blockError(values, weights: weights, scale: bestScale, low: low, high: high),
                                    blockError(values, weights: weights, scale: plain, low: low, high: high))
        return searched < original ? bestScale : plain
    }

    /// `Σ wᵢ (xᵢ − d·qᵢ)²` with `qᵢ` the codes stored for scale `d`.
    private static func blockError(_ x: UnsafePointer<Float>, weights: UnsafePointer<Float>, scale: Float, low: Float, high: Float) -> Float {
        let inverse = 1 / scale
        var error: Float = 0
        for i in 0..<blockSize {
            let e = x[i] - scale * code(x[i] * inverse, low: low, high: high)
            error += weights[i] * e * e
        }
        return error
    }

    /// `v` rounded half away from zero and clamped to `low…high` (0 for NaN). Inlined: the
    /// library's `rounded()` is a call to `roundf` on baseline x86-64, which made it most of the
    /// cost of a quantization with calibration.
    @inline(__always)
    static func code(_ v: Float, low: Float, high: Float) -> Float {
        guard v == v else { return 0 }
        let clamped = v < low ? low : (v > high ? high : v)
        return Float(Int32(clamped + (clamped < 0 ? -0.5 : 0.5)))
    }

    /// Writes one Q4_0 / Q8_0 block at `out`: the scale and the 32 codes (−8…7 / −127…127, as floats).
    static func storeBlock(scale: Float, codes: UnsafePointer<Float>, type: GGMLType, into out: UnsafeMutableRawPointer) {
        out.storeBytes(of: HalfFloat.fromFloat(scale).littleEndian, as: UInt16.self)
        if type == .q4_0 {
            for j in 0..<(blockSize / 2) {
                let lo = UInt8(codes[j] + 8)
                let hi = UInt8(codes[j + blockSize / 2] + 8)
                out.storeBytes(of: lo | hi << 4, toByteOffset: 2 + j, as: UInt8.self)
            }
        } else {
            for i in 0..<blockSize { out.storeBytes(of: Int8(codes[i]), toByteOffset: 2 + i, as: Int8.self) }
        }
    }

    /// Encodes `count` floats as Q4_0 / Q8_0 blocks with the scales of
    /// ``weightedScale(_:weights:type:)``; `weights` holds one weight per value. The bytes are
    /// ordinary blocks that every reader, llama.cpp's included, decodes unchanged.
    static func encodeWeighted(
        _ values: UnsafePointer<Float>, weights: UnsafePointer<Float>, count: Int, as type: GGMLType,
        into out: UnsafeMutableRawPointer
    ) {
        let (low, high) = codeRange(type)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: blockSize) { buffer in
            guard let codes = buffer.baseAddress else { return }
            for block in 0..<(count / blockSize) {
                let x = values + block * blockSize
                let scale = weightedScale(x, weights: weights + block * blockSize, type: type)
                let inverse: Float = scale != 0 ? 1 / scale : 0
                for i in 0..<blockSize {
                    codes[i] = code(x[i] * inverse, low: low, high: high)
                }
                storeBlock(scale: scale, codes: codes, type: type, into: out + block * type.blockBytes)
            }
        }
    }
}
