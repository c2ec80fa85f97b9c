/// The Gemma 3 text backbone of a GGUF file in llama.cpp's layout, shared by the embedding model
/// (`gemma-embedding`, bidirectional) and the text generator (`gemma3`, causal): vocabulary,
/// hyper-parameters, layer weights, token embeddings and final norm.
///
/// Conventions of those files: matrices are `[columns, rows]` in ggml order; norm weights already
/// hold `1 + w`; the vocabulary is SentencePiece pieces, scores and types in `tokenizer.ggml.*`.
/// Matrices stay in the mapping in their stored encoding (any of
/// ``BlockQuantization/decodableTypes``), so only what is read becomes resident.
struct GGUFBackbone {
    let file: GGUFFile
    let tokenizer: GemmaTokenizer
    let config: GemmaConfig
    let layers: [GemmaLayerWeights]
    /// Token embeddings `[vocab × hidden]` (also the output projection of the generator).
    let embedding: WeightMatrix
    /// Byte offset of the token embeddings in the file.
    let embeddingOffset: Int
    /// Final RMSNorm factor (`1 + w`).
    let finalNorm: FloatStorage
    /// Linear RoPE scaling of the full-attention layers (`rope.scaling.factor`, 1 when absent).
    let ropeScaling: Double

    /// Reads and validates the backbone of `file` under the metadata prefix `architecture`.
    init(file: GGUFFile, architecture a: String, bidirectional: Bool) throws(EmbeddingGemmaError) {
        self.file = file
        let path = file.path
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
        // llama.cpp's gemma3 files hold the context they were trained for (32 768 and more); the
        // rotary tables cover it, and a generator sizes its cache by the context it is asked for.
        let contextLimit = bidirectional ? 1 << 15 : 1 << 17
        config = GemmaConfig(
            hiddenSize: hidden, intermediateSize: try integer("\(a).feed_forward_length"), numHiddenLayers: layers,
            numAttentionHeads: heads, numKeyValueHeads: try integer("\(a).attention.head_count_kv", default: heads),
            headDim: headDim, rmsNormEps: Float(try real("\(a).attention.layer_norm_rms_epsilon", default: 1e-6)),
            ropeTheta: try real("\(a).rope.freq_base", default: 1_000_000),
            ropeLocalBaseFreq: try real("\(a).rope.freq_base_swa", default: 10_000),
            slidingWindow: try integer("\(a).attention.sliding_window", limit: 1 << 18), layerTypes: layerTypes,
            queryPreAttnScalar: Double(headDim), vocabSize: vocabulary.count,
            maxPositionEmbeddings: try integer("\(a).context_length", default: 2048, limit: contextLimit),
            hiddenActivation: "gelu_pytorch_tanh", attnLogitSoftcapping: nil, useBidirectionalAttention: bidirectional)
        try config.validate(causalAllowed: !bidirectional)
        ropeScaling = file.metadata["\(a).rope.scaling.type"]?.stringValue == "linear" ? try real("\(a).rope.scaling.factor", default: 1) : 1

        // Weights.
        let config = config
        func norm(_ name: String, _ count: Int) throws(EmbeddingGemmaError) -> FloatStorage {
            try Self.norm(file, name, count)
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws(EmbeddingGemmaError) -> WeightMatrix {
            try Self.matrix(file, name, rows: rows, columns: columns)
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
        self.layers = layerWeights
        embedding = try matrix(GGUFTensorNames.tokenEmbedding, rows: vocabulary.count, columns: hidden)
        embeddingOffset = file.tensor(named: GGUFTensorNames.tokenEmbedding)?.range.lowerBound ?? 0
        finalNorm = try norm(GGUFTensorNames.outputNorm, hidden)
    }

    /// The matrix `name`, checked to be `rows × columns` of a type the engine decodes.
    func matrix(_ name: String, rows: Int, columns: Int) throws(EmbeddingGemmaError) -> WeightMatrix {
        try Self.matrix(file, name, rows: rows, columns: columns)
    }

    private static func matrix(_ file: GGUFFile, _ name: String, rows: Int, columns: Int) throws(EmbeddingGemmaError) -> WeightMatrix {
        let path = file.path
        guard let info = file.tensor(named: name) else {
            throw .corruptModelFile(path: path, reason: "tensor \(name) is missing")
        }
        guard info.dimensions == [columns, rows] else {
            throw .corruptModelFile(path: path, reason: "tensor \(name) has dimensions \(info.dimensions), expected [\(columns), \(rows)]")
        }
        guard BlockQuantization.decodableTypes.contains(info.type) else {
            let names = BlockQuantization.decodableTypes.map { "\($0)".uppercased() }.sorted().joined(separator: ", ")
            throw .unsupportedConfiguration("tensor \(name) of \(path) is \("\(info.type)".uppercased()); this engine reads \(names)")
        }
        guard let base = file.mapping.baseAddress else { throw .corruptModelFile(path: path, reason: "file is empty") }
        return WeightMatrix(type: info.type, rows: rows, columns: columns, bytes: base + info.range.lowerBound, owner: file.mapping)
    }

    /// A 1-D norm tensor (stored with a single dimension) as float32.
    private static func norm(_ file: GGUFFile, _ name: String, _ count: Int) throws(EmbeddingGemmaError) -> FloatStorage {
        let path = file.path
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
}
