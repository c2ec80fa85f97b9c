extension EmbeddingModel {
    /// A short identity of the weights as they are in memory: SHA-256 (first 16 hex digits) over
    /// the shapes, encodings and sampled bytes of every layer and head matrix. Two models give the
    /// same fingerprint when they compute the same vectors; a re-quantized, re-calibrated or
    /// different checkpoint gives another. Cheap (a few hundred kilobytes hashed), so a search
    /// index can check it on every use.
    public var fingerprint: String {
        var hash = SHA256()
        var matrices = encoder.layers.flatMap { $0.matrices.map(\.0) }
        matrices += head.dense.map(\.weight)
        for matrix in matrices {
            let header = "\(matrix.type.rawValue):\(matrix.rows)x\(matrix.columns);"
            hash.update(Array(header.utf8))
            let samples = min(16, matrix.rows)
            let width = min(matrix.rowBytes, 1024)
            for s in 0..<samples {
                let row = s * (matrix.rows - 1) / max(1, samples - 1)
                hash.update(UnsafeRawBufferPointer(start: matrix.bytes + row * matrix.rowBytes, count: width))
            }
        }
        return String(hash.finalizeHex().prefix(16))
    }
}

extension EmbeddingModel {
    /// Where the model was loaded from: the GGUF file, or the sentence-transformers folder.
    public var sourcePath: String { ggufSource?.path ?? folder.path }
}
