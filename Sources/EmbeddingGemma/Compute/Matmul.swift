import CEmbeddingGemmaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(Accelerate)
import Accelerate
#elseif canImport(COpenBLAS)
import COpenBLAS
#endif

/// Matrix products with float32 activations, row-major throughout: the platform BLAS (Accelerate on
/// Apple platforms, OpenBLAS on Linux) for large float32 products, and on x86-64 CPUs with AVX2+FMA
/// the kernels of `CEmbeddingGemmaKernels` for what BLAS does badly: short queries, narrow outputs
/// (``blasNarrowColumns``), attention, and every product with Q8_0/Q4_0 weights.
///
/// Threading is ours, not the BLAS library's: OpenBLAS is set to one thread and ``linear``
/// splits a product across ``Parallel/threadCount`` threads itself (by rows for token batches,
/// by output columns for a handful of tokens). Measured on the 2-core bench machine, OpenBLAS's
/// own threads reach 20 GFLOP/s on a 12-row product where two single-threaded halves reach
/// about 50, and they spin (`sched_yield`) between the many small products of attention, which
/// this design runs in parallel per sequence instead.
enum Matmul {
    /// Largest row count that always goes to the AVX2 kernel (a short query), whatever the output width.
    static let smallBatchRows = 16

    /// Output widths up to which the AVX2 kernel replaces OpenBLAS for any number of rows:
    /// OpenBLAS 0.3.21 (Debian) computes products with at most about 320 output columns at a third
    /// of its usual speed (measured: 9.7 against 33 GFLOP/s on one core for 384 × 256 × 256), and
    /// the key/value projections (256 wide) and attention (256 keys or head width) are such products.
    static let blasNarrowColumns = 320

    /// How a product with Q8_0/Q4_0 weights takes its float32 input rows.
    enum ActivationCoding: Sendable {
        /// As float32, multiplied with the decoded weights (the generator: its greedy tokens stay those
        /// of the reference implementation on the same weights).
        case float32
        /// Quantized per block of 32 to int8 and multiplied as integers where this CPU runs the int8
        /// kernel (``int8Kernel``), as llama.cpp does; as float32 elsewhere. The embedding model's choice.
        case int8WhereFaster
    }

    /// Whether the AVX2+FMA kernels run on this CPU (and are not disabled with
    /// `EMBEDDINGGEMMA_DISABLE_AVX2=1`, which the benchmark uses to measure what they bring).
    static let useAVX2Kernels: Bool = {
        if getenv("EMBEDDINGGEMMA_DISABLE_AVX2").map({ String(cString: $0) }) == "1" { return false }
        return eg_avx2_fma_available() != 0
    }()

    /// Whether the AVX-512F kernels run on this CPU (and are not disabled with
    /// `EMBEDDINGGEMMA_DISABLE_AVX512=1`). They then take every kernel product whose depth is a
    /// multiple of 16 (queries, narrow products, attention, quantized panels).
    static let useAVX512Kernels: Bool = {
        if getenv("EMBEDDINGGEMMA_DISABLE_AVX512").map({ String(cString: $0) }) == "1" { return false }
        return useAVX2Kernels && eg_avx512_available() != 0
    }()

    /// Whether large float32 products (many rows, wide outputs) go to this engine's kernels instead
    /// of BLAS because BLAS would leave the CPU's vector units half used: on an AVX-512 CPU where
    /// OpenBLAS runs AVX2 or older kernels (it does not know the CPU model, or `OPENBLAS_CORETYPE`
    /// says so), and on an AVX2 CPU where it runs its generic pre-AVX2 kernels. Measured on a Zen 5
    /// (BENCHMARKS.md): the AVX-512 kernel 1.2–1.5× OpenBLAS's Haswell kernels, on a par with its
    /// Cooperlake (AVX-512) kernels, which therefore keep the large products when OpenBLAS picks them;
    /// the packed AVX2 kernel on a par with OpenBLAS's Haswell kernels, which keep them likewise.
    static let kernelTakesLargeProducts: Bool =
        (useAVX512Kernels && !ComputeEnvironment.blasUsesAVX512) || (useAVX2Kernels && ComputeEnvironment.blasIsGeneric)

    /// The name of the kernel each kind of product runs on this CPU, for `bench`.
    static var kernelDescription: String {
        let large = !kernelTakesLargeProducts ? "BLAS" : useAVX512Kernels ? "AVX-512 packed kernel (BLAS runs narrower kernels here)"
            : "AVX2 packed kernel (BLAS runs generic kernels here)"
        let small = useAVX512Kernels ? "AVX-512 kernel" : useAVX2Kernels ? "AVX2 kernel" : "BLAS"
        let quantized = useAVX512Kernels ? "AVX2 decode + AVX-512 kernel" : useAVX2Kernels ? "AVX2 decode + AVX2 kernel" : "decode + BLAS"
        let int8 = int8Kernel.map { "\($0.name) (inputs quantized per block of 32)" } ?? quantized
        let few = useAVX512Kernels ? "AVX-512 streamed kernel (decoded in registers)"
            : useAVX2Kernels ? "AVX2 streamed kernel (decoded in registers)" : "decode + BLAS"
        let bf16 = useBF16Kernel ? "AVX512-BF16 kernel (inputs rounded to bf16, float32 sums)" : "decoded to float32"
        return "large float32: \(large); queries and narrow products: \(small); Q8_0/Q4_0 batches: \(quantized); BF16 weights: \(bf16); "
            + "Q8_0/Q4_0 in the embedding model: \(int8); ≤ \(streamedRows) rows (generated tokens) on Q8_0/Q4_0/Q5_0/Q4_K/Q6_K: \(few)"
    }

    /// Fewest input rows that take the packed kernels (`eg_gemm_packed_avx512`, `eg_gemm_packed_avx2`)
    /// rather than the dot-product blocks: below this, transposing each weight panel costs more than the
    /// packed tiles save.
    static let packedKernelRows = 48

    /// `y[i·ldy + j] = x[i] · w[j]` on one thread with the widest kernel this CPU runs for depth `k`
    /// (AVX-512 when `k` is a multiple of 16, else AVX2; `k` must be a multiple of 8).
    @inline(__always)
    static func kernelProduct(_ x: UnsafePointer<Float>, ldx: Int, m: Int, _ w: UnsafePointer<Float>, ldw: Int, n: Int, k: Int,
                              into y: UnsafeMutablePointer<Float>, ldy: Int) {
        // Many rows: the packed outer-product kernels (a panel's transpose is shared by every row).
        if useAVX512Kernels, k % 16 == 0 {
            if m >= packedKernelRows, eg_gemm_packed_avx512(x, ldx, Int32(m), w, ldw, Int32(n), Int32(k), y, ldy) != 0 { return }
            eg_gemm_nt_avx512(x, ldx, Int32(m), w, ldw, Int32(n), Int32(k), y, ldy)
        } else {
            if m >= packedKernelRows, eg_gemm_packed_avx2(x, ldx, Int32(m), w, ldw, Int32(n), Int32(k), y, ldy) != 0 { return }
            eg_gemm_nt_avx2(x, ldx, Int32(m), w, ldw, Int32(n), Int32(k), y, ldy)
        }
    }

    /// Makes the BLAS library single-threaded, once per process.
    static let configureThreads: Void = {
        #if canImport(COpenBLAS)
        openblas_set_num_threads(1)
        #endif
    }()

    /// One single-threaded BLAS product: `c[m×n] = alpha · a[m×k] · b`, where `b` is `[n×k]` read
    /// transposed when `transposeB` (the shape of a linear layer, weights stored `[out, in]`) and
    /// `[k×n]` otherwise.
    @inline(__always)
    static func multiply(
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        into c: UnsafeMutablePointer<Float>, ldc: Int,
        m: Int, n: Int, k: Int, alpha: Float = 1
    ) {
        guard m > 0, n > 0 else { return }
        _ = configureThreads
        if m == 1 {
            // One row (a generated token's attention): a matrix-vector product, which BLAS runs
            // without packing either operand.
            if transposeB {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, 1, 0, c, 1)
            } else {
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, 1, 0, c, 1)
            }
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }

    /// Upper triangle of `gram[width×width] += xᵀ·x` for `x` `[rows×width]` (calibration
    /// statistics; the lower triangle is left alone), one BLAS call.
    static func addGram(_ x: UnsafePointer<Float>, rows: Int, width: Int, into gram: UnsafeMutablePointer<Float>) {
        guard rows > 0, width > 0 else { return }
        _ = configureThreads
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(width), Int32(rows),
                    1, x, Int32(width), 1, gram, Int32(width))
    }

    /// `c[m×n] −= a[m×k] · b[k×n]` (all row-major with the given strides), one BLAS call.
    static func subtractProduct(
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        from c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        _ = configureThreads
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    -1, a, Int32(lda), b, Int32(ldb), 1, c, Int32(ldc))
    }

    /// `width` rounded up to a multiple of 8: the padded row stride of attention scores, so that the
    /// product with the values has a depth the AVX2 kernel takes.
    static func paddedWidth(_ width: Int) -> Int { (width + 7) / 8 * 8 }

    /// `c[m×n] = alpha · a[m×k] · b[n×k]ᵀ` on one thread (attention scores). The AVX2 kernel when
    /// it runs here, `k` is a multiple of 8 and the product is narrow (`n` ≤ ``blasNarrowColumns``, where
    /// OpenBLAS is slow) or short; BLAS otherwise (long sequences).
    static func multiplyTransposed(
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, alpha: Float
    ) {
        guard m > 0, n > 0 else { return }
        guard useAVX2Kernels, k % 8 == 0, n <= blasNarrowColumns || m <= smallBatchRows || kernelTakesLargeProducts else {
            multiply(a, lda: lda, b, ldb: ldb, transposeB: true, into: c, ldc: ldc, m: m, n: n, k: k, alpha: alpha)
            return
        }
        kernelProduct(a, ldx: lda, m: m, b, ldw: ldb, n: n, k: k, into: c, ldy: ldc)
        if alpha != 1 {
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n { row[j] *= alpha }
            }
        }
    }

    /// A linear layer over `rows` input rows: `output[rows×out] = input[rows×in] · weightᵀ`,
    /// split across threads.
    static func linear(
        _ input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        _ = configureThreads
        let parallel = Parallel.threadCount > 1 && rows * outFeatures * inFeatures >= 1 << 20
        if useAVX2Kernels, inFeatures % 8 == 0, rows <= smallBatchRows || outFeatures <= blasNarrowColumns || kernelTakesLargeProducts {
            // A short query: OpenBLAS repacks the weight matrix on every call, which costs as much
            // as the arithmetic when there are only a few rows; this kernel streams it once. Narrow
            // outputs (the key and value projections): OpenBLAS runs at a third of its speed there.
            forEachKernelBlock(rows: rows, columns: outFeatures, parallel: parallel) { firstRow, rowCount, first, count in
                kernelProduct(input + firstRow * inFeatures, ldx: inFeatures, m: rowCount, weight + first * inFeatures, ldw: inFeatures,
                              n: count, k: inFeatures, into: output + firstRow * outFeatures + first, ldy: outFeatures)
            }
        } else if !parallel {
            multiply(input, lda: inFeatures, weight, ldb: inFeatures, transposeB: true, into: output, ldc: outFeatures,
                               m: rows, n: outFeatures, k: inFeatures)
        } else if rows >= 32 * Parallel.threadCount {
            // Many tokens: each thread takes a band of rows and streams the whole weight matrix.
            Parallel.forEachChunk(rows, grain: 32) { band in
                multiply(input + band.lowerBound * inFeatures, lda: inFeatures, weight, ldb: inFeatures, transposeB: true,
                                   into: output + band.lowerBound * outFeatures, ldc: outFeatures,
                                   m: band.count, n: outFeatures, k: inFeatures)
            }
        } else {
            // Few tokens: each thread reads its own slice of the weight matrix once.
            forEachColumnBlock(outFeatures, parallel: true) { first, count in
                multiply(input, lda: inFeatures, weight + first * inFeatures, ldb: inFeatures, transposeB: true,
                                   into: output + first, ldc: outFeatures, m: rows, n: count, k: inFeatures)
            }
        }
    }

    /// A linear layer whose weights may be in any ``WeightMatrix`` encoding:
    /// `output[rows × weight.rows] = input[rows × weight.columns] · weightᵀ`.
    ///
    /// Float32 weights take ``linear(_:rows:inFeatures:weight:outFeatures:into:)`` unchanged. Up to
    /// ``streamedRows`` rows (a generated token) on an AVX2 or AVX-512 CPU, Q8_0, Q4_0, Q5_0, Q4_K and Q6_K
    /// weights are streamed once and decoded in registers (``streamedLinear(_:rows:weight:into:)``). Q8_0 and
    /// Q4_0 weights go to the AVX2 kernel for any number of rows: each panel of weight rows is decoded
    /// once into a 48 KB stack buffer and multiplied with the input rows chunk by chunk, so the weights
    /// are read once, at 3.8× (Q8_0) or 7.1× (Q4_0) fewer bytes than float32, no decoded copy of the
    /// matrix exists, and activations stay float32 — unless `activations` is
    /// ``ActivationCoding/int8WhereFaster`` on a VNNI CPU, where ``int8Linear(_:weight:into:)`` runs; the other block types (Q5_0, Q4_K, Q6_K, … of
    /// llama.cpp's files) go panel by panel through the decoding kernel the same way. Without those
    /// kernels (and for F16/BF16 weights) the whole matrix is decoded into `scratch`
    /// (``scratchCount(for:)`` floats) for the float32 BLAS product.
    static func linear(
        _ input: UnsafePointer<Float>, rows: Int, weight: WeightMatrix,
        into output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, activations: ActivationCoding = .float32
    ) {
        withExtendedLifetime(weight) {
            if activations == .int8WhereFaster, let kernel = int8Kernel, takesInt8Kernel(weight, rows: rows) {
                let quantized = Int8Activations(input, rows: rows, columns: weight.columns, type: weight.type, kernel: kernel)
                int8Linear(quantized, weight: weight, into: output)
                return
            }
            if let floats = weight.floats {
                linear(input, rows: rows, inFeatures: weight.columns, weight: floats, outFeatures: weight.rows, into: output)
                return
            }
            if usesBF16Kernel(weight) {
                bf16Linear(input, rows: rows, weight: weight, into: output)
                return
            }
            if rows <= streamedRows, usesStreamedKernel(weight) {
                streamedLinear(input, rows: rows, weight: weight, into: output)
                return
            }
            if usesQuantizedKernel(weight) {
                let parallel = Parallel.threadCount > 1 && rows * weight.rows * weight.columns >= 1 << 18
                forEachKernelBlock(rows: rows, columns: weight.rows, parallel: parallel) { firstRow, rowCount, first, count in
                    let product = useAVX512Kernels ? eg_gemm_quantized_avx512 : eg_gemm_quantized_avx2
                    product(input + firstRow * weight.columns, Int32(rowCount), weight.bytes + first * weight.rowBytes,
                            Int32(weight.type.rawValue), Int32(count), Int32(weight.columns),
                            output + firstRow * weight.rows + first, weight.rows)
                }
                return
            }
            if usesDecodingKernel(weight) {
                let parallel = Parallel.threadCount > 1 && rows * weight.rows * weight.columns >= 1 << 18
                forEachKernelBlock(rows: rows, columns: weight.rows, parallel: parallel) { firstRow, rowCount, first, count in
                    let product = useAVX512Kernels ? eg_gemm_decoded_avx512 : eg_gemm_decoded_avx2
                    // Cannot fail: the type and the row length were checked by usesDecodingKernel.
                    _ = product(input + firstRow * weight.columns, Int32(rowCount), weight.bytes + first * weight.rowBytes,
                                Int32(weight.type.rawValue), weight.rowBytes, Int32(count), Int32(weight.columns),
                                output + firstRow * weight.rows + first, weight.rows)
                }
                return
            }
            weight.decodeAll(into: scratch)
            linear(input, rows: rows, inFeatures: weight.columns, weight: scratch, outFeatures: weight.rows, into: output)
        }
    }

    /// Whether bf16 weights are multiplied in bf16 (`vdpbf16ps`, float32 sums): an AVX512-BF16 CPU,
    /// unless `EMBEDDINGGEMMA_DISABLE_BF16=1` (then, as on other CPUs, the weights are decoded to float32
    /// and the products are float32's).
    static let useBF16Kernel: Bool = {
        if getenv("EMBEDDINGGEMMA_DISABLE_BF16").map({ String(cString: $0) }) == "1" { return false }
        return useAVX512Kernels && eg_avx512bf16_available() != 0
    }()

    /// Whether `weight` takes ``bf16Linear(_:rows:weight:into:)``.
    private static func usesBF16Kernel(_ weight: WeightMatrix) -> Bool {
        useBF16Kernel && weight.type == .bf16 && weight.columns % 32 == 0
    }

    /// A linear layer on bf16 weights in bf16 precision: the input rows are rounded to bf16 and the
    /// products summed in float32 by the AVX512-BF16 kernel, split across threads like the float32
    /// kernels (by output columns for a few rows, by bands of rows for many).
    static func bf16Linear(_ input: UnsafePointer<Float>, rows: Int, weight: WeightMatrix, into output: UnsafeMutablePointer<Float>) {
        let k = weight.columns
        let parallel = Parallel.threadCount > 1 && rows * weight.rows * k >= 1 << 18
        let w = weight.bytes.assumingMemoryBound(to: UInt16.self)
        withExtendedLifetime(weight) {
            forEachKernelBlock(rows: rows, columns: weight.rows, parallel: parallel) { firstRow, rowCount, first, count in
                let done = eg_gemm_bf16(input + firstRow * k, k, Int32(rowCount), w + first * k, k, Int32(count), Int32(k),
                                        output + firstRow * weight.rows + first, weight.rows)
                // The kernel allocates only its rounded copy of these rows (rowCount × k × 2 bytes).
                precondition(done == 1, "out of memory for \(rowCount) rows of \(k) bf16 values")
            }
        }
    }

    /// Most input rows that take the streamed kernel (``streamedLinear(_:rows:weight:into:)``): one
    /// generated token, or a few; more rows are faster with a panel decoded once for all of them.
    static let streamedRows = 4

    /// Whether the streamed kernel runs `weight`: an AVX2 or AVX-512 CPU (not disabled) and a block
    /// type it decodes in registers (Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) with whole blocks per row.
    static func usesStreamedKernel(_ weight: WeightMatrix) -> Bool {
        guard useAVX2Kernels, weight.floats == nil else { return false }
        let block = Int(eg_streamed_block_size(Int32(weight.type.rawValue)))
        return block > 0 && weight.columns % block == 0
    }

    /// A linear layer for a few rows on quantized weights, each weight row streamed once from memory
    /// and decoded in registers (the products of generating a token are bound by the memory's speed,
    /// so nothing is written between decoding and multiplying); threads share out the output columns.
    /// The caller checks ``usesStreamedKernel(_:)``.
    static func streamedLinear(_ input: UnsafePointer<Float>, rows: Int, weight: WeightMatrix, into output: UnsafeMutablePointer<Float>) {
        // Even the key and value projections of a 270M model (110 KB) gain from a second thread on
        // the pool's awake workers: memory bandwidth grows with the cores reading.
        let parallel = Parallel.threadCount > 1 && weight.byteCount >= 1 << 16
        let product = useAVX512Kernels ? eg_gemm_streamed_avx512 : eg_gemm_streamed_avx2
        withExtendedLifetime(weight) {
            forEachColumnBlock(weight.rows, parallel: parallel) { first, count in
                // Cannot fail: the type and the row length were checked by usesStreamedKernel.
                _ = product(input, weight.columns, Int32(rows), weight.bytes + first * weight.rowBytes,
                            Int32(weight.type.rawValue), weight.rowBytes, Int32(count), Int32(weight.columns),
                            output + first, weight.rows)
            }
        }
    }

    /// Whether `weight` (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) is multiplied panel by panel by the
    /// decoding kernel rather than decoded whole into scratch.
    private static func usesDecodingKernel(_ weight: WeightMatrix) -> Bool {
        useAVX2Kernels && decodingKernelTypes.contains(weight.type) && weight.columns <= Int(EG_QUANTIZED_MAX_K)
            && weight.columns % weight.type.blockSize == 0 && weight.columns % 8 == 0
    }

    private static let decodingKernelTypes: Set<GGMLType> = [.q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// Floats of scratch ``linear(_:rows:weight:into:scratch:)`` needs for `weight`: the whole matrix
    /// when it is decoded for BLAS (F16 weights, BF16 without the AVX512-BF16 kernel, block types without
    /// the AVX2 kernels), else 0.
    static func scratchCount(for weight: WeightMatrix) -> Int {
        if weight.floats != nil || usesQuantizedKernel(weight) || usesDecodingKernel(weight) || usesBF16Kernel(weight) { return 0 }
        return weight.rows * weight.columns
    }

    /// Whether Q8_0/Q4_0 `weight` is multiplied by the AVX2 kernel without a decoded copy.
    private static func usesQuantizedKernel(_ weight: WeightMatrix) -> Bool {
        useAVX2Kernels && (weight.type == .q8_0 || weight.type == .q4_0) && weight.columns <= Int(EG_QUANTIZED_MAX_K)
    }

    /// Several products of one input — the query, key and value projections, the gate and up
    /// projections — each as ``linear(_:rows:weight:into:scratch:activations:)`` computes it, except that
    /// when they all take the int8 kernel on weights of one block type, the input is quantized once for all.
    static func linear(
        _ input: UnsafePointer<Float>, rows: Int, products: [(weight: WeightMatrix, output: UnsafeMutablePointer<Float>)],
        scratch: UnsafeMutablePointer<Float>, activations: ActivationCoding = .float32
    ) {
        if activations == .int8WhereFaster, let kernel = int8Kernel, let first = products.first?.weight,
           products.allSatisfy({ takesInt8Kernel($0.weight, rows: rows) && $0.weight.type == first.type && $0.weight.columns == first.columns }) {
            let quantized = Int8Activations(input, rows: rows, columns: first.columns, type: first.type, kernel: kernel)
            for (weight, output) in products { int8Linear(quantized, weight: weight, into: output) }
            return
        }
        for (weight, output) in products {
            linear(input, rows: rows, weight: weight, into: output, scratch: scratch, activations: activations)
        }
    }

    /// Whether `weight` with `rows` input rows takes the int8 kernel when the activations allow it: Q8_0/Q4_0
    /// weights the quantized kernels take, unless the rows are few enough for the streamed kernel. The one
    /// rule for both ``linear(_:rows:weight:into:scratch:activations:)`` and the shared-input products.
    private static func takesInt8Kernel(_ weight: WeightMatrix, rows: Int) -> Bool {
        weight.floats == nil && !usesBF16Kernel(weight) && !(rows <= streamedRows && usesStreamedKernel(weight))
            && usesQuantizedKernel(weight)
    }

    /// Input rows quantized for the int8 kernels: per block of 32, int8 codes with a float scale and the
    /// integer correction of the weights' code offset (which depends on their block type).
    final class Int8Activations {
        let bytes: UnsafeMutableRawPointer
        let rows: Int
        let columns: Int
        let rowBytes: Int
        let type: GGMLType
        let kernel: Int8Kernel

        init(_ input: UnsafePointer<Float>, rows: Int, columns k: Int, type: GGMLType, kernel: Int8Kernel) {
            self.rows = rows
            self.columns = k
            self.type = type
            self.kernel = kernel
            rowBytes = Int(eg_int8_row_bytes(Int32(k)))
            bytes = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowBytes, 1), alignment: 64)
            let out = UncheckedSendable(bytes), rowBytes = rowBytes, code = Int32(type.rawValue)
            Parallel.forEachChunk(rows, grain: 64) { band in
                kernel.quantize(input + band.lowerBound * k, k, Int32(band.count), Int32(k), code, out.value + band.lowerBound * rowBytes)
            }
        }

        deinit { bytes.deallocate() }
    }

    /// Int8 products on Q8_0/Q4_0 weights for any number of rows, as llama.cpp computes them: the
    /// input rows, quantized per block of 32 to int8 with a float scale (``Int8Activations``), meet the
    /// weights' codes in exact integer dot products per block in the int8 kernel (``int8Kernel``), then
    /// one float multiply-add per block with both scales. The caller checks ``int8Kernel`` and that the
    /// weight's type and row length are the activations'.
    static func int8Linear(_ quantized: Int8Activations, weight: WeightMatrix, into output: UnsafeMutablePointer<Float>) {
        precondition(weight.type == quantized.type && weight.columns == quantized.columns, "int8 activations of another block type or length")
        let rows = quantized.rows, k = weight.columns, type = Int32(weight.type.rawValue), activationBytes = quantized.rowBytes
        let q = UncheckedSendable(quantized.bytes)
        let parallel = Parallel.threadCount > 1 && rows * weight.rows * k >= 1 << 18
        let kernel = quantized.kernel
        withExtendedLifetime((weight, quantized)) {
            forEachKernelBlock(rows: rows, columns: weight.rows, parallel: parallel) { firstRow, rowCount, first, count in
                // Cannot fail: the type and the row length were checked by usesQuantizedKernel.
                _ = kernel.product(q.value + firstRow * activationBytes, Int32(rowCount), weight.bytes + first * weight.rowBytes, type,
                                   weight.rowBytes, Int32(count), Int32(k), output + firstRow * weight.rows + first, weight.rows)
            }
        }
    }

    /// Input rows per call of the AVX2 kernels: every weight panel passes over all of a call's rows,
    /// so they should stay in the last-level cache (256 rows of 768 floats are 768 KB).
    static let kernelRowBlock = 256

    /// Splits a kernel product into calls `body(firstRow, rowCount, firstColumn, columnCount)`: up to
    /// ``kernelRowBlock`` rows, threads share out the output columns (each reads its part of the weights
    /// once); more rows, threads take bands of rows and call the kernel on blocks of ``kernelRowBlock``
    /// rows with every column, so the input rows a weight panel passes over stay in cache.
    private static func forEachKernelBlock(rows: Int, columns: Int, parallel: Bool, _ body: (Int, Int, Int, Int) -> Void) {
        guard rows > kernelRowBlock else {
            forEachColumnBlock(columns, parallel: parallel) { first, count in body(0, rows, first, count) }
            return
        }
        Parallel.forEachChunk(rows, grain: parallel ? 32 : rows) { band in
            for start in stride(from: band.lowerBound, to: band.upperBound, by: kernelRowBlock) {
                body(start, min(kernelRowBlock, band.upperBound - start), 0, columns)
            }
        }
    }

    /// Calls `body(first, count)` on slices of `0..<columns` (multiples of 16), across threads if `parallel`.
    private static func forEachColumnBlock(_ columns: Int, parallel: Bool, _ body: (Int, Int) -> Void) {
        guard parallel else {
            body(0, columns)
            return
        }
        Parallel.forEachChunk((columns + 15) / 16, grain: 1) { blocks in
            let first = blocks.lowerBound * 16
            body(first, min(columns, blocks.upperBound * 16) - first)
        }
    }
}
