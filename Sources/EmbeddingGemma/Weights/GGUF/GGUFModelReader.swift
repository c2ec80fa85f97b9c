/// Builds an EmbeddingGemma model from a GGUF file of the `gemma-embedding` architecture, as
/// written by llama.cpp's `convert_hf_to_gguf.py`, by Ollama, or by `gemma-embed quantize`.
///
/// Conventions of those files: matrices are `[columns, rows]` in ggml order; norm weights already
/// hold `1 + w`; the sentence-transformers Dense head is `dense_2.weight` / `dense_3.weight` and is
/// absent from files converted without `--sentence-transformers-dense-modules`; the vocabulary is
/// SentencePiece pieces, scores and types in `tokenizer.ggml.*`. Tensors are used in place in the
/// mapping, so only the embedding rows that are looked up become resident.
struct GGUFModelReader {
    /// The GGUF architecture name of EmbeddingGemma.
    static let architecture = "gemma-embedding"
    /// Prefix of the prompt keys `gemma-embed quantize` writes (`sentence_transformers.prompts.query`, ...).
    static let promptPrefix = "sentence_transformers.prompts."

    let file: GGUFFile
    let folder: ModelFolder
    let tokenizer: GemmaTokenizer
    let encoder: GemmaEncoder
    let head: EmbeddingHead

    /// Reads and validates the model in the GGUF file at `path`.
    /// - Parameter allowMissingHead: accept a file without the Dense head and return the mean-pooled,
    ///   L2-normalised hidden state instead of EmbeddingGemma embeddings.
    init(path: String, allowMissingHead: Bool) throws(EmbeddingGemmaError) {
        let file = try GGUFFile(path: path)
        self.file = file
        let arch = file.metadata["general.architecture"]?.stringValue ?? "(none)"
        guard arch == Self.architecture else {
            throw .unsupportedConfiguration("\(path) is a GGUF model of architecture '\(arch)'; this engine runs '\(Self.architecture)' (EmbeddingGemma)")
        }
        // Sizes are bounded before anything is allocated from them (a flipped bit must not ask for
        // gigabytes of rotary tables); the tensors' shapes are checked against them afterwards.
        func integer(_ key: String, default value: Int? = nil, limit: Int = 1 << 16) throws(EmbeddingGemmaError) -> Int {
            if let v = file.metadata[key]?.intValue, v > 0, v <= limit { return v }
            if let value, file.metadata[key] == nil { return value }
            throw .corruptModelFile(path: path, reason: "metadata \(key) is missing or not an integer in 1...\(limit)")
        }
        func real(_ key: String, default value: Double) throws(EmbeddingGemmaError) -> Double {
            guard let entry = file.metadata[key] else { return value }
            guard let v = entry.doubleValue, v.isFinite, v > 0 else {
                throw .corruptModelFile(path: path, reason: "metadata \(key) is not a positive number")
            }
            return v
        }
        let a = Self.architecture
        if let pooling = file.metadata["\(a).pooling_type"], pooling.intValue != 1 {
            throw .unsupportedConfiguration("pooling type \(pooling.intValue.map(String.init) ?? "?") in \(path); EmbeddingGemma uses mean pooling (1)")
        }

        // Vocabulary.
        guard file.metadata["tokenizer.ggml.model"]?.stringValue == "llama" else {
            throw .invalidTokenizer(path: path, reason: "tokenizer.ggml.model must be 'llama' (SentencePiece) for Gemma")
        }
        let vocabulary = try SentencePieceModel(gguf: file)
        tokenizer = try GemmaTokenizer(sentencePiece: vocabulary, source: path)

        // Hyper-parameters.
        let layers = try integer("\(a).block_count", limit: 1024)
        let hidden = try integer("\(a).embedding_length")
        let heads = try integer("\(a).attention.head_count", limit: 1024)
        let headDim = try integer("\(a).attention.key_length", default: hidden / max(heads, 1), limit: 1024)
        var layerTypes: [String] = (0..<layers).map { $0 % 6 == 5 ? "full_attention" : "sliding_attention" }
        if let pattern = file.metadata["\(a).attention.sliding_window_pattern"]?.arrayValue {
            guard pattern.count == layers else {
                throw .corruptModelFile(path: path, reason: "sliding_window_pattern has \(pattern.count) entries for \(layers) layers")
            }
            layerTypes = pattern.map { $0 == .bool(false) ? "full_attention" : "sliding_attention" }
        }
        let config = GemmaConfig(
            hiddenSize: hidden, intermediateSize: try integer("\(a).feed_forward_length"), numHiddenLayers: layers,
            numAttentionHeads: heads, numKeyValueHeads: try integer("\(a).attention.head_count_kv", default: heads),
            headDim: headDim, rmsNormEps: Float(try real("\(a).attention.layer_norm_rms_epsilon", default: 1e-6)),
            ropeTheta: try real("\(a).rope.freq_base", default: 1_000_000),
            ropeLocalBaseFreq: try real("\(a).rope.freq_base_swa", default: 10_000),
            slidingWindow: try integer("\(a).attention.sliding_window", limit: 1 << 18), layerTypes: layerTypes,
            queryPreAttnScalar: Double(headDim), vocabSize: vocabulary.count,
            maxPositionEmbeddings: try integer("\(a).context_length", default: 2048, limit: 1 << 15),
            hiddenActivation: "gelu_pytorch_tanh", attnLogitSoftcapping: nil, useBidirectionalAttention: true)
        try config.validate()

        // Weights.
        func matrix(_ name: String, rows: Int, columns: Int) throws(EmbeddingGemmaError) -> WeightMatrix {
            guard let info = file.tensor(named: name) else {
                throw .corruptModelFile(path: path, reason: "tensor \(name) is missing")
            }
            guard info.dimensions == [columns, rows] else {
                throw .corruptModelFile(path: path, reason: "tensor \(name) has dimensions \(info.dimensions), expected [\(columns), \(rows)]")
            }
            guard BlockQuantization.supportedTypes.contains(info.type) else {
                throw .unsupportedConfiguration("tensor \(name) is \(info.type); this engine reads F32, F16, BF16, Q8_0 and Q4_0 (re-quantize with `gemma-embed quantize`)")
            }
            guard let base = file.mapping.baseAddress else { throw .corruptModelFile(path: path, reason: "file is empty") }
            return WeightMatrix(type: info.type, rows: rows, columns: columns, bytes: base + info.range.lowerBound, owner: file.mapping)
        }
        // 1-D tensors are stored with a single dimension.
        func norm(_ name: String, _ count: Int) throws(EmbeddingGemmaError) -> FloatStorage {
            guard let info = file.tensor(named: name) else { throw .corruptModelFile(path: path, reason: "tensor \(name) is missing") }
            guard info.dimensions == [count], info.type == .f32 || info.type == .f16 || info.type == .bf16 else {
                throw .corruptModelFile(path: path, reason: "tensor \(name) has dimensions \(info.dimensions) of \(info.type), expected [\(count)] of F32")
            }
            guard let base = file.mapping.baseAddress else { throw .corruptModelFile(path: path, reason: "file is empty") }
            let m = WeightMatrix(type: info.type, rows: 1, columns: count, bytes: base + info.range.lowerBound, owner: file.mapping)
            return FloatStorage(count: count) { out in
                if let p = out.baseAddress { m.decode(rows: 0..<1, into: p) }
            }
        }
        let qWidth = heads * headDim
        let kvWidth = config.numKeyValueHeads * headDim
        var layerWeights: [GemmaLayerWeights] = []
        for i in 0..<layers {
            let n = GGUFTensorNames(layer: i)
            layerWeights.append(GemmaLayerWeights(
                norms: (try norm(n.inputNorm, hidden), try norm(n.postAttentionNorm, hidden),
                        try norm(n.preFeedforwardNorm, hidden), try norm(n.postFeedforwardNorm, hidden),
                        try norm(n.queryNorm, headDim), try norm(n.keyNorm, headDim)),
                query: try matrix(n.query, rows: qWidth, columns: hidden),
                key: try matrix(n.key, rows: kvWidth, columns: hidden),
                value: try matrix(n.value, rows: kvWidth, columns: hidden),
                output: try matrix(n.output, rows: hidden, columns: qWidth),
                gate: try matrix(n.gate, rows: config.intermediateSize, columns: hidden),
                up: try matrix(n.up, rows: config.intermediateSize, columns: hidden),
                down: try matrix(n.down, rows: hidden, columns: config.intermediateSize),
                isFullAttention: config.isFullAttention(layer: i)))
        }
        // Token embeddings: rows are read with pread, so the 100–800 MB table stays out of memory.
        let table = try matrix(GGUFTensorNames.tokenEmbedding, rows: vocabulary.count, columns: hidden)
        let tableOffset = file.tensor(named: GGUFTensorNames.tokenEmbedding)?.range.lowerBound ?? 0
        encoder = GemmaEncoder(config: config, embedding: table.readingRowsFromFile(file.mapping, offset: tableOffset),
                               layers: layerWeights, finalNorm: try norm(GGUFTensorNames.outputNorm, hidden))

        // The sentence-transformers head.
        let dense2 = file.tensor(named: GGUFTensorNames.dense2)
        let dense3 = file.tensor(named: GGUFTensorNames.dense3)
        var dense: [EmbeddingHead.Dense] = []
        if let dense2, dense3 != nil {
            let inner = dense2.dimensions.count == 2 ? dense2.dimensions[1] : 0
            dense = [EmbeddingHead.Dense(weight: try matrix(GGUFTensorNames.dense2, rows: inner, columns: hidden), bias: nil),
                     EmbeddingHead.Dense(weight: try matrix(GGUFTensorNames.dense3, rows: hidden, columns: inner), bias: nil)]
        } else if dense2 != nil || dense3 != nil || !allowMissingHead {
            let missing = [dense2 == nil ? GGUFTensorNames.dense2 : nil, dense3 == nil ? GGUFTensorNames.dense3 : nil].compactMap { $0 }
            throw .unsupportedConfiguration(
                "\(path) lacks the sentence-transformers Dense head (missing tensors: \(missing.joined(separator: ", "))), so it cannot produce EmbeddingGemma embeddings. "
                + "Convert with convert_hf_to_gguf.py --sentence-transformers-dense-modules or `gemma-embed quantize`, "
                + "or pass --raw-pooled to use the mean-pooled hidden state instead")
        }
        head = EmbeddingHead(dense: dense, normalizes: true, inputWidth: hidden)

        // The vocabulary was read from the header; give those pages back.
        if let first = file.tensors.map(\.range.lowerBound).min() { file.mapping.release(0..<first) }

        var prompts: [String: String] = [:]
        for key in file.metadataKeys where key.hasPrefix(Self.promptPrefix) {
            if let text = file.metadata[key]?.stringValue { prompts[String(key.dropFirst(Self.promptPrefix.count))] = text }
        }
        folder = ModelFolder(path: path, config: config, prompts: prompts.isEmpty ? ModelFolder.embeddingGemmaPrompts : prompts,
                             maxSequenceLength: config.maxPositionEmbeddings, embeddingDimension: head.outputWidth)
    }
}
