#if canImport(Accelerate)
import Accelerate
#elseif canImport(COpenBLAS)
import COpenBLAS
#endif

/// Float32 matrix products through the platform BLAS (Accelerate on Apple platforms,
/// OpenBLAS on Linux). All matrices are row-major.
enum Matmul {
    /// `c[m×n] = alpha · a[m×k] · b[n×k]ᵀ + beta · c`.
    ///
    /// This is the shape of a linear layer: `b` is a weight matrix stored `[out, in]`.
    @inline(__always)
    static func multiplyTransposed(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `c[m×n] = alpha · a[m×k] · b[k×n] + beta · c`.
    @inline(__always)
    static func multiply(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// A linear layer over `rows` input rows: `output[rows×out] = input[rows×in] · weightᵀ`.
    @inline(__always)
    static func linear(
        _ input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        multiplyTransposed(input, lda: inFeatures, weight, ldb: inFeatures, into: output, ldc: outFeatures,
                           m: rows, n: outFeatures, k: inFeatures)
    }
}
