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
        if let pooling = file.metadata["\(Self.architecture).pooling_type"], pooling.intValue != 1 {
            throw .unsupportedConfiguration("pooling type \(pooling.intValue.map(String.init) ?? "?") in \(path); EmbeddingGemma uses mean pooling (1)")
        }
        let backbone = try GGUFBackbone(file: file, architecture: Self.architecture, bidirectional: true)
        tokenizer = backbone.tokenizer
        let config = backbone.config
        let hidden = config.hiddenSize
        encoder = GemmaEncoder(config: config, embedding: backbone.embedding.readingRowsFromFile(file.mapping, offset: backbone.embeddingOffset),
                               layers: backbone.layers, finalNorm: backbone.finalNorm)
        func matrix(_ name: String, rows: Int, columns: Int) throws(EmbeddingGemmaError) -> WeightMatrix {
            try backbone.matrix(name, rows: rows, columns: columns)
        }

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
            throw .missingDenseHead(path: path, missingTensors: missing)
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
