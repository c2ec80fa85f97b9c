import CEmbeddingGemmaKernels

/// A row-major `[rows × columns]` weight matrix (a linear layer's `[out, in]` or the embedding
/// table) in one of the encodings the engine computes with: float32, float16, bfloat16, or
/// GGUF's Q8_0 / Q4_0 blocks. The bytes are either viewed in a memory-mapped file (only the
/// pages that are read become resident) or owned.
struct WeightMatrix: @unchecked Sendable {
    /// Element encoding (one of ``BlockQuantization/supportedTypes``).
    let type: GGMLType
    /// Number of rows (output features).
    let rows: Int
    /// Number of columns (input features).
    let columns: Int
    /// Bytes per row.
    let rowBytes: Int
    /// First byte of row 0.
    let bytes: UnsafeRawPointer
    /// Keeps the mapping or allocation alive.
    private let owner: AnyObject
    /// When set, rows are read from this file at ``bytes``' file offset with `pread` instead of
    /// through the mapping (see ``readingRowsFromFile(_:offset:)``).
    private var rowFile: MappedFile? = nil
    private var fileOffset = 0

    /// A float32 matrix over `storage` (`rows × columns` elements).
    init(_ storage: FloatStorage, rows: Int, columns: Int) {
        precondition(storage.count == rows * columns, "matrix shape does not match its storage")
        type = .f32
        self.rows = rows
        self.columns = columns
        rowBytes = columns * 4
        bytes = UnsafeRawPointer(storage.pointer)
        owner = storage
    }

    /// A view of encoded bytes owned by `owner` (a mapped file). The caller has checked that
    /// `rows · type.rowBytes(columns)` bytes are readable at `bytes`.
    init(type: GGMLType, rows: Int, columns: Int, bytes: UnsafeRawPointer, owner: AnyObject) {
        self.type = type
        self.rows = rows
        self.columns = columns
        rowBytes = type.rowBytes(elements: columns) ?? 0
        self.bytes = bytes
        self.owner = owner
    }

    /// Encodes float32 `values` (`rows × columns`) as `type`, rows shared out across threads.
    /// `columns` must be a multiple of `type`'s block size. With a calibration `plan` for this
    /// matrix's input, Q4_0 / Q8_0 matrices are quantized by ``GPTQ``.
    init(encoding values: UnsafePointer<Float>, rows: Int, columns: Int, as type: GGMLType, plan: GPTQ.Plan? = nil) {
        let rowBytes = type.rowBytes(elements: columns) ?? 0
        let storage = ByteStorage(count: rows * rowBytes)
        if let plan, type == .q4_0 || type == .q8_0, plan.width == columns {
            GPTQ.encode(values, rows: rows, columns: columns, plan: plan, as: type, into: storage.pointer)
        } else {
            let target = UncheckedSendable(storage.pointer)
            let source = UncheckedSendable(values)
            Parallel.forEachChunk(rows, grain: 256) { range in
                for r in range {
                    BlockQuantization.encode(source.value + r * columns, count: columns, as: type, into: target.value + r * rowBytes)
                }
            }
        }
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        bytes = UnsafeRawPointer(storage.pointer)
        owner = storage
    }

    /// The same matrix, but ``decode(rows:into:)`` reads each row from `file` at `offset` with
    /// `pread`: for a large table of which few rows are used (the token embeddings), this keeps
    /// the table out of resident memory. Whole-matrix uses (products, conversion) still map it.
    func readingRowsFromFile(_ file: MappedFile, offset: Int) -> WeightMatrix {
        var copy = self
        copy.rowFile = file
        copy.fileOffset = offset
        return copy
    }

    /// The same values re-encoded as `type` (self when already of that type), by ``GPTQ`` for
    /// Q4_0 / Q8_0 when a calibration `plan` for the matrix's input is given.
    func converted(to type: GGMLType, plan: GPTQ.Plan? = nil) -> WeightMatrix {
        if type == self.type { return self }
        if let floats {
            return WeightMatrix(encoding: floats, rows: rows, columns: columns, as: type, plan: plan)
        }
        let decoded = UnsafeMutablePointer<Float>.allocate(capacity: max(rows * columns, 1))
        defer { decoded.deallocate() }
        decode(rows: 0..<rows, into: decoded)
        return withExtendedLifetime(self) {
            WeightMatrix(encoding: decoded, rows: rows, columns: columns, as: type, plan: plan)
        }
    }

    /// The float32 elements when the matrix is float32.
    var floats: UnsafePointer<Float>? {
        type == .f32 ? bytes.assumingMemoryBound(to: Float.self) : nil
    }

    /// Total encoded size in bytes.
    var byteCount: Int { rows * rowBytes }

    /// Decodes the rows `range` to float32 into `out` (`range.count × columns` floats).
    func decode(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        if let rowFile {
            let rowBytes = rowBytes
            withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 64) { buffer in
                guard let base = buffer.baseAddress else { return }
                for r in range {
                    let target = out + (r - range.lowerBound) * columns
                    if rowFile.read(into: base, count: rowBytes, at: fileOffset + r * rowBytes) {
                        BlockQuantization.decode(UnsafeRawPointer(base), count: columns, type: type, into: target)
                    } else {
                        // The file changed under us; fall back to the mapping (which may fault).
                        BlockQuantization.decode(bytes + r * rowBytes, count: columns, type: type, into: target)
                    }
                }
            }
            return
        }
        withExtendedLifetime(owner) {
            if (type == .q8_0 || type == .q4_0), Matmul.useAVX2Kernels {
                // The AVX2 decoder gives the same values (d · q) several times faster.
                eg_decode_rows_avx2(bytes + range.lowerBound * rowBytes, Int32(type.rawValue), Int32(range.count), Int32(columns), out)
                return
            }
            // Q4_1, Q5_x and k-quants: the C decoders (vectorised, the same floats as the Swift ones).
            if !BlockQuantization.supportedTypes.contains(type),
               eg_decode_kquant_rows(bytes + range.lowerBound * rowBytes, Int32(type.rawValue), Int32(range.count), Int32(columns), out) != 0 {
                return
            }
            for r in range {
                BlockQuantization.decode(bytes + r * rowBytes, count: columns, type: type, into: out + (r - range.lowerBound) * columns)
            }
        }
    }

    /// Decodes the whole matrix into `out`, rows shared out across threads.
    func decodeAll(into out: UnsafeMutablePointer<Float>) {
        let target = UncheckedSendable(out)
        Parallel.forEachChunk(rows, grain: 64) { range in
            decode(rows: range, into: target.value + range.lowerBound * columns)
        }
    }
}

/// An owned, 64-byte aligned byte buffer.
final class ByteStorage: @unchecked Sendable {
    /// First byte.
    let pointer: UnsafeMutableRawPointer

    init(count: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }
}
