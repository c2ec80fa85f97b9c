#if canImport(Accelerate)
import Accelerate
#elseif canImport(COpenBLAS)
import COpenBLAS
#endif

/// Double-precision dense factorisations for quantization with calibration (``GPTQ``), on the
/// platform BLAS (level-3 calls do nearly all the work). Matrices are row-major `[n × n]`.
enum LinearAlgebra {
    /// Columns factored per step of the blocked Cholesky factorisation.
    static let block = 64

    /// Factors the symmetric positive definite matrix whose lower triangle is in `a` as `LLᵀ`,
    /// writing `L` over that lower triangle (the upper triangle is not read or written).
    /// Right-looking by blocks: each diagonal block is factored directly, the panel below it
    /// solved with `trsm`, and the rest updated with `syrk`.
    /// - Returns: false when a pivot is not positive (the matrix is not positive definite).
    static func choleskyLower(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        _ = Matmul.configureThreads
        for k in stride(from: 0, to: n, by: block) {
            let b = min(block, n - k)
            let diagonal = a + k * n + k
            for j in 0..<b {
                let rowJ = diagonal + j * n
                var s = rowJ[j]
                for p in 0..<j { s -= rowJ[p] * rowJ[p] }
                guard s > 0, s.isFinite else { return false }
                let d = s.squareRoot()
                rowJ[j] = d
                for i in (j + 1)..<b {
                    let rowI = diagonal + i * n
                    var t = rowI[j]
                    for p in 0..<j { t -= rowI[p] * rowJ[p] }
                    rowI[j] = t / d
                }
            }
            let rest = n - k - b
            guard rest > 0 else { continue }
            let panel = a + (k + b) * n + k
            // Panel · L_kkᵀ = A_panel, then A_rest −= Panel · Panelᵀ (lower triangle).
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                        Int32(rest), Int32(b), 1, diagonal, Int32(n), panel, Int32(n))
            cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, Int32(rest), Int32(b),
                        -1, panel, Int32(n), 1, a + (k + b) * n + (k + b), Int32(n))
        }
        return true
    }

    /// The inverse of the lower-triangular `l` (its upper triangle ignored) into `out`, lower
    /// triangular with zeros above the diagonal.
    static func invertLower(_ l: UnsafePointer<Double>, n: Int, into out: UnsafeMutablePointer<Double>) {
        _ = Matmul.configureThreads
        out.update(repeating: 0, count: n * n)
        for i in 0..<n { out[i * n + i] = 1 }
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
                    Int32(n), Int32(n), 1, l, Int32(n), out, Int32(n))
    }
}
