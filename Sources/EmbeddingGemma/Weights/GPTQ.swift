/// GPTQ (Frantar et al., 2022, "Accurate Post-Training Quantization for Generative Pre-trained
/// Transformers") for GGUF's Q4_0 / Q8_0 blocks: the columns of a `[out × in]` matrix are rounded
/// one after another, and each column's rounding error, weighted by how the inputs move together
/// on calibration text (their Gram matrix `H = E[xᵀx]`), is carried over to the columns not yet
/// rounded, so that the product's output error `‖(W − Ŵ) x‖` stays small rather than each weight's.
/// Blocks of 32 columns share a row's scale, chosen when the block starts from the updated
/// values (``BlockQuantization/weightedScale(_:weights:type:)``). The result is an ordinary
/// Q4_0 / Q8_0 matrix.
enum GPTQ {
    /// The dampening added to `H`'s diagonal, as a fraction of its mean (GPTQ's default).
    static let dampening = 0.01

    /// What quantizing a matrix against one input needs: the importance weights and the
    /// upper-triangular factor `U` of `H⁻¹ = UᵀU`.
    struct Plan: Sendable {
        /// Input features.
        let width: Int
        /// Mean squared input per column (block scale weights).
        let diagonal: [Float]
        /// `U`, row-major `[width × width]`, or nil when only the diagonal is known (then blocks are
        /// rounded with weighted scales, without error compensation).
        let factor: [Float]?

        init(_ input: ImportanceMatrix.Input) {
            width = input.width
            diagonal = input.diagonal
            factor = input.gram.flatMap { GPTQ.inverseFactor($0, n: input.width) }
        }
    }

    /// `U` upper triangular with `(H + λI)⁻¹ = UᵀU`, from the Cholesky factor `L'` of `H` with its
    /// rows and columns reversed (`JHJ = L'L'ᵀ` gives `U = J L'⁻¹ J`). Computed in double
    /// precision; nil when `H` is not positive definite even with 100 times the dampening.
    static func inverseFactor(_ gram: [Float], n: Int) -> [Float]? {
        guard n > 0, gram.count == n * n else { return nil }
        var meanDiagonal = 0.0
        for i in 0..<n { meanDiagonal += Double(max(gram[i * n + i], 0)) }
        meanDiagonal = meanDiagonal / Double(n)
        if !(meanDiagonal > 0) || !meanDiagonal.isFinite { meanDiagonal = 1 }
        for multiple in [1.0, 10, 100] {
            let damp = dampening * meanDiagonal * multiple
            var a = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0...i {
                    // Reversed order: a[i][j] = H[n−1−i][n−1−j].
                    var v = Double(gram[(n - 1 - i) * n + (n - 1 - j)])
                    if i == j { v = (v > 0 ? v : 1) + damp }
                    a[i * n + j] = v
                }
            }
            let factored = a.withUnsafeMutableBufferPointer { buffer -> [Float]? in
                guard let base = buffer.baseAddress, LinearAlgebra.choleskyLower(base, n: n) else { return nil }
                let inverse = UnsafeMutablePointer<Double>.allocate(capacity: n * n)
                defer { inverse.deallocate() }
                LinearAlgebra.invertLower(base, n: n, into: inverse)
                // U = J L⁻¹ J: U[i][j] = L⁻¹[n−1−i][n−1−j].
                var u = [Float](repeating: 0, count: n * n)
                for i in 0..<n {
                    for j in i..<n { u[i * n + j] = Float(inverse[(n - 1 - i) * n + (n - 1 - j)]) }
                }
                return u.allSatisfy(\.isFinite) ? u : nil
            }
            if let factored { return factored }
        }
        return nil
    }

    /// Quantizes `values` (`[rows × columns]` float32, `columns` = `plan.width`, a multiple of 32)
    /// into `rows` rows of `type` (Q4_0 or Q8_0) blocks at `out`.
    static func encode(
        _ values: UnsafePointer<Float>, rows: Int, columns: Int, plan: Plan, as type: GGMLType,
        into out: UnsafeMutableRawPointer
    ) {
        let blockSize = BlockQuantization.blockSize
        let rowBytes = type.rowBytes(elements: columns) ?? 0
        guard let factor = plan.factor else {
            plan.diagonal.withUnsafeBufferPointer { weights in
                guard let w = weights.baseAddress else { return }
                let source = UncheckedSendable(values), target = UncheckedSendable(out)
                Parallel.forEachChunk(rows, grain: 16) { range in
                    for r in range {
                        BlockQuantization.encodeWeighted(source.value + r * columns, weights: w, count: columns, as: type,
                                                         into: target.value + r * rowBytes)
                    }
                }
            }
            return
        }
        let (low, high) = BlockQuantization.codeRange(type)
        let work = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
        defer { work.deallocate() }
        work.update(from: values, count: rows * columns)
        let errors = UnsafeMutablePointer<Float>.allocate(capacity: rows * blockSize)
        defer { errors.deallocate() }
        let shared = UncheckedSendable((work: work, errors: errors, out: out))
        factor.withUnsafeBufferPointer { factorBuffer in
            plan.diagonal.withUnsafeBufferPointer { weightBuffer in
                guard let u = factorBuffer.baseAddress, let weights = weightBuffer.baseAddress else { return }
                let pointers = UncheckedSendable((u: u, weights: weights))
                for start in stride(from: 0, to: columns, by: blockSize) {
                    // Round this block of columns row by row; each row's errors stay within the row.
                    Parallel.forEachChunk(rows, grain: 32) { range in
                        let (work, errors, out) = shared.value
                        let (u, weights) = pointers.value
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: blockSize) { buffer in
                            guard let codes = buffer.baseAddress else { return }
                            for r in range {
                                let x = work + r * columns + start
                                let scale = BlockQuantization.weightedScale(x, weights: weights + start, type: type)
                                let inverse: Float = scale != 0 ? 1 / scale : 0
                                for j in 0..<blockSize {
                                    let q = BlockQuantization.code(x[j] * inverse, low: low, high: high)
                                    codes[j] = q
                                    let uRow = u + (start + j) * columns + start
                                    let e = (x[j] - scale * q) / uRow[j]
                                    errors[r * blockSize + j] = e
                                    for k in (j + 1)..<blockSize { x[k] -= e * uRow[k] }
                                }
                                BlockQuantization.storeBlock(scale: scale, codes: codes, type: type,
                                                             into: out + r * rowBytes + (start / blockSize) * type.blockBytes)
                            }
                        }
                    }
                    // Carry the block's errors over to the columns after it: W[:, end...] −= E · U[block, end...].
                    let end = start + blockSize
                    guard end < columns else { continue }
                    Parallel.forEachChunk(rows, grain: 64) { range in
                        let (work, errors, _) = shared.value
                        Matmul.subtractProduct(errors + range.lowerBound * blockSize, lda: blockSize,
                                               pointers.value.u + start * columns + end, ldb: columns,
                                               from: work + range.lowerBound * columns + end, ldc: columns,
                                               m: range.count, n: columns - end, k: blockSize)
                    }
                }
            }
        }
    }
}
