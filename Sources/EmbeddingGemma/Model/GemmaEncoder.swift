/// The Gemma 3 text backbone run as a bidirectional encoder.
///
/// A batch is packed into one `[tokens × hidden]` matrix without padding, so every linear layer
/// is a single matrix product over all tokens of all sequences; attention runs per sequence on
/// its slice. Sliding-window layers attend over |i − j| ≤ `slidingRadius`, full layers over the
/// whole sequence.
struct GemmaEncoder: Sendable {
    let config: GemmaConfig
    /// Token embeddings `[vocab × hidden]`.
    let embedding: WeightMatrix
    let layers: [GemmaLayerWeights]
    /// Final RMSNorm factor (`1 + w`).
    let finalNorm: FloatStorage
    private let localRotary: RotaryTable
    private let globalRotary: RotaryTable
    private let embeddingScale: Float
    private let attentionScale: Float

    /// Query rows per attention block: bounds the score matrix to `block × keys`.
    var attentionBlock = 128

    /// Loads the backbone weights of `file` and checks them against `config`.
    init(file: SafeTensorsFile, config: GemmaConfig) throws(EmbeddingGemmaError) {
        let prefix = try Self.tensorPrefix(in: file)
        let table = try file.floats(prefix + "embed_tokens.weight", shape: [config.vocabSize, config.hiddenSize])
        var layers: [GemmaLayerWeights] = []
        for index in 0..<config.numHiddenLayers {
            layers.append(try GemmaLayerWeights(layer: index, from: file, config: config, prefix: prefix))
        }
        let rawNorm = try file.floats(prefix + "norm.weight", shape: [config.hiddenSize])
        self.init(config: config, embedding: WeightMatrix(table, rows: config.vocabSize, columns: config.hiddenSize),
                  layers: layers, finalNorm: FloatStorage(count: config.hiddenSize) { out in
                      for i in 0..<config.hiddenSize { out[i] = 1 + rawNorm.pointer[i] }
                  })
    }

    /// The prefix of the backbone's tensor names in `file`: none (sentence-transformers' folder) or
    /// `model.` (a transformers checkpoint).
    static func tensorPrefix(in file: SafeTensorsFile) throws(EmbeddingGemmaError) -> String {
        if file.tensors["embed_tokens.weight"] != nil { return "" }
        if file.tensors["model.embed_tokens.weight"] != nil { return "model." }
        throw .corruptModelFile(path: file.path, reason: "no embed_tokens.weight tensor: not a Gemma 3 text model")
    }

    /// An encoder over weights already read and checked against `config`
    /// (`finalNorm` stored as `1 + w`).
    init(config: GemmaConfig, embedding: WeightMatrix, layers: [GemmaLayerWeights], finalNorm: FloatStorage) {
        self.config = config
        self.embedding = embedding
        self.layers = layers
        self.finalNorm = finalNorm
        localRotary = RotaryTable(base: config.ropeLocalBaseFreq, headDim: config.headDim, positions: config.maxPositionEmbeddings)
        globalRotary = RotaryTable(base: config.ropeTheta, headDim: config.headDim, positions: config.maxPositionEmbeddings)
        embeddingScale = Float(Double(config.hiddenSize).squareRoot())
        attentionScale = Float(1 / config.queryPreAttnScalar.squareRoot())
    }

    /// The same encoder with its matrices encoded as `quantization` says; with calibration
    /// statistics, Q4_0 / Q8_0 layer matrices are quantized by ``GPTQ`` (the embedding table, a
    /// lookup whose rows are not multiplied by inputs, is rounded to nearest).
    func converted(to quantization: QuantizationType, importance: ImportanceMatrix? = nil) -> GemmaEncoder {
        let converted = layers.enumerated().map { index, layer in
            layer.converted(to: quantization, importance: importance.map { ($0, layer: index) })
        }
        var copy = GemmaEncoder(config: config, embedding: embedding.converted(to: quantization.type(for: .embedding)),
                                layers: converted, finalNorm: finalNorm)
        copy.attentionBlock = attentionBlock
        return copy
    }

    /// Rows of a feed-forward band in long passes of Q8_0/Q4_0 layers (their usual pass).
    static let quantizedFeedForwardRows = 256

    /// Whether every layer matrix is Q8_0 or Q4_0, whose products treat each input row alone.
    var hasInt8BlockLayers: Bool {
        layers.allSatisfy { layer in layer.matrices.allSatisfy { $0.0.type == .q8_0 || $0.0.type == .q4_0 } }
    }

    /// Whether every matrix is float32 (the exact path).
    var isFloat32: Bool {
        embedding.type == .f32 && layers.allSatisfy { layer in layer.matrices.allSatisfy { $0.0.type == .f32 } }
    }

    /// Bytes of all weights (matrices and norms).
    var weightBytes: Int {
        let norms = layers.reduce(finalNorm.count) { total, layer in
            total + layer.inputNorm.count * 4 + layer.queryNorm.count * 2
        } * 4
        return embedding.byteCount + layers.reduce(0) { $0 + $1.matrices.reduce(0) { $0 + $1.0.byteCount } } + norms
    }

    /// Runs the encoder over packed sequences.
    /// - Parameters:
    ///   - tokens: every sequence's ids, concatenated; each id must be in `0..<vocabSize`.
    ///   - lengths: the length of each sequence (each ≤ `maxPositionEmbeddings`).
    ///   - layerCount: number of layers to run (all by default; fewer for layer-by-layer checks).
    ///   - applyFinalNorm: whether to apply the final RMSNorm.
    ///   - statistics: when given, records the Gram matrix of every product's input (calibration).
    /// - Returns: hidden states `[tokens × hidden]`.
    func forward(
        tokens: [Int32], lengths: [Int], layerCount: Int? = nil, applyFinalNorm: Bool = true,
        statistics: ActivationStatistics? = nil
    ) -> [Float] {
        let n = tokens.count
        let h = config.hiddenSize
        let eps = config.rmsNormEps

        // Quantized models (chosen to save memory) run the feed-forward block of a long pass (one
        // long document) in bands of at most the rows of their usual pass: their products treat
        // each row alone, so the vectors are the same, and the gate and up buffers are 8 times
        // smaller at 2048 tokens. Other passes keep their products whole (float32 kernels block by rows).
        let bands = (n + Self.quantizedFeedForwardRows - 1) / Self.quantizedFeedForwardRows
        // Bands of even size, so none is small enough to take another kernel (the streamed one).
        let band = statistics == nil && bands > 1 && hasInt8BlockLayers ? (n + bands - 1) / bands : nil
        let work = EncoderWorkspace(tokens: n, config: config,
                                    scratch: layers.map(\.scratchCount).max() ?? 0, feedForwardRows: band)
        let xp = work.hidden, pp = work.positions
        var starts: [Int] = []
        var offset = 0
        for length in lengths {
            starts.append(offset)
            for p in 0..<length { pp[offset + p] = Int32(p) }
            offset += length
        }

        // Token embeddings, scaled by sqrt(hidden).
        let scale = embeddingScale
        Parallel.forEachChunk(n, grain: 64) { range in
            for t in range {
                let out = xp + t * h
                embedding.decode(rows: Int(tokens[t])..<(Int(tokens[t]) + 1), into: out)
                for i in 0..<h { out[i] *= scale }
            }
        }

        let step = GemmaLayerStep(config: config, work: work, rows: n, statistics: statistics, activations: .int8WhereFaster)
        for (index, layer) in layers.prefix(min(layerCount ?? layers.count, layers.count)).enumerated() {
            step.beforeAttention(layer, index: index, rotary: layer.isFullAttention ? globalRotary : localRotary)
            attendAll(q: work.query, k: work.key, v: work.value, out: work.attention, starts: starts, lengths: lengths,
                      fullAttention: layer.isFullAttention)
            step.afterAttention(layer, index: index)
        }

        if applyFinalNorm {
            Parallel.forEachChunk(n, grain: 32) { r in
                Kernels.rmsNorm(xp + r.lowerBound * h, into: xp + r.lowerBound * h, rows: r.count, width: h,
                                scale: finalNorm.pointer, eps: eps)
            }
        }
        return withExtendedLifetime(work) { Array(UnsafeBufferPointer(start: xp, count: n * h)) }
    }

    /// Attention for every sequence of a packed batch. The (sequence, query block) pairs are
    /// independent, so they are shared out across threads, each with its own score buffer.
    ///
    /// With one key/value head, each sequence's values are first transposed once (`[headDim ×
    /// valueStride(length)]`, zero after the last token), so that the weighted sum of values is a
    /// product with a transposed right-hand side like the scores: the shape the AVX2 kernel takes.
    private func attendAll(
        q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>, starts: [Int], lengths: [Int], fullAttention: Bool
    ) {
        let qWidth = config.numAttentionHeads * config.headDim
        let kvWidth = config.numKeyValueHeads * config.headDim
        let hd = config.headDim
        var tasks: [(sequence: Int, first: Int)] = []
        for (sequence, length) in lengths.enumerated() {
            for first in stride(from: 0, to: length, by: attentionBlock) {
                tasks.append((sequence, first))
            }
        }
        let transposes = config.numKeyValueHeads == 1
        var valueOffsets: [Int] = []
        var total = 0
        for length in lengths {
            valueOffsets.append(total)
            total += transposes ? hd * Self.valueStride(length) : 0
        }
        let values = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
        defer { values.deallocate() }
        if transposes {
            Parallel.forEachChunk(lengths.count, grain: 1) { range in
                for s in range {
                    let length = lengths[s], rowStride = Self.valueStride(length)
                    let source = v + starts[s] * kvWidth
                    let target = values + valueOffsets[s]
                    for d in 0..<hd {
                        let row = target + d * rowStride
                        for t in 0..<length { row[t] = source[t * kvWidth + d] }
                        for t in length..<rowStride { row[t] = 0 }
                    }
                }
            }
        }
        let longest = lengths.max() ?? 0
        let scoreCount = min(attentionBlock, max(longest, 1)) * config.numAttentionHeads * Matmul.paddedWidth(max(longest, 1))
        Parallel.forEachChunk(tasks.count, grain: 1) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: scoreCount)
            defer { scores.deallocate() }
            for task in tasks[range] {
                let start = starts[task.sequence], length = lengths[task.sequence]
                attend(q: q + start * qWidth, k: k + start * kvWidth, v: v + start * kvWidth,
                       transposedValues: values + valueOffsets[task.sequence],
                       out: out + start * qWidth, length: length, queries: task.first..<min(length, task.first + attentionBlock),
                       fullAttention: fullAttention, scores: scores)
            }
        }
    }

    /// Row stride of a sequence's transposed values: room for the zero-padded key band of any block.
    private static func valueStride(_ length: Int) -> Int { Matmul.paddedWidth(length) + 8 }

    /// Bidirectional attention of the query tokens `queries` of one sequence of `length` tokens.
    /// Sliding layers only compute the band of keys within `slidingRadius` of each block.
    /// `scores` holds the block's score rows (padded to ``Matmul/paddedWidth(_:)`` with zeros);
    /// `transposedValues` is the sequence's values transposed by ``attendAll(q:k:v:out:starts:lengths:fullAttention:)``
    /// (used with one key/value head).
    private func attend(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        transposedValues: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, length: Int, queries: Range<Int>, fullAttention: Bool,
        scores: UnsafeMutablePointer<Float>
    ) {
        let heads = config.numAttentionHeads
        let kvHeads = config.numKeyValueHeads
        let group = heads / kvHeads
        let hd = config.headDim
        let qWidth = heads * hd
        let kvWidth = kvHeads * hd
        let radius = fullAttention ? length : config.slidingRadius
        let t0 = queries.lowerBound
        let t1 = queries.upperBound
        let k0 = max(0, t0 - radius)
        let k1 = min(length, t1 + radius)
        let keys = k1 - k0
        if kvHeads == 1 {
            // One key/value head: the block's query rows of all heads form one
            // [(t1 − t0)·heads × headDim] matrix (rows ordered token, then head).
            let rows = (t1 - t0) * heads
            let stride = Matmul.paddedWidth(keys)
            Matmul.multiplyTransposed(
                q + t0 * qWidth, lda: hd, k + k0 * kvWidth, ldb: kvWidth,
                into: scores, ldc: stride, m: rows, n: keys, k: hd, alpha: attentionScale)
            for row in 0..<rows {
                let i = t0 + row / heads
                Kernels.softmax(scores + row * stride, count: stride,
                                lower: max(0, i - radius) - k0, upper: min(length, i + radius + 1) - k0)
            }
            // Padding columns of the scores are zero, so reading `stride` (≥ keys) transposed values is exact.
            Matmul.multiplyTransposed(
                scores, lda: stride, transposedValues + k0, ldb: Self.valueStride(length),
                into: out + t0 * qWidth, ldc: hd, m: rows, n: hd, k: stride, alpha: 1)
        } else {
            for head in 0..<heads {
                let kvHead = head / group
                Matmul.multiply(
                    q + t0 * qWidth + head * hd, lda: qWidth,
                    k + k0 * kvWidth + kvHead * hd, ldb: kvWidth, transposeB: true,
                    into: scores, ldc: keys, m: t1 - t0, n: keys, k: hd, alpha: attentionScale)
                for i in t0..<t1 {
                    Kernels.softmax(scores + (i - t0) * keys, count: keys,
                                    lower: max(0, i - radius) - k0, upper: min(length, i + radius + 1) - k0)
                }
                Matmul.multiply(
                    scores, lda: keys, v + k0 * kvWidth + kvHead * hd, ldb: kvWidth, transposeB: false,
                    into: out + t0 * qWidth + head * hd, ldc: qWidth, m: t1 - t0, n: hd, k: keys)
            }
        }
    }
}
