#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes a loaded model as one GGUF file of the `gemma-embedding` architecture, with the tensor
/// names, metadata keys and tokenizer arrays of llama.cpp's converter (run with
/// `--sentence-transformers-dense-modules`), so llama.cpp and Ollama load it, plus the
/// sentence-transformers prompts under `sentence_transformers.prompts.*`.
enum GGUFModelWriter {
    /// Writes `model` (already encoded as `quantization` says) to `path`.
    static func write(_ model: EmbeddingModel, quantization: QuantizationType, to path: String) throws(EmbeddingGemmaError) {
        let vocabulary = try sourceVocabulary(of: model)
        let config = model.encoder.config
        let a = GGUFModelReader.architecture
        var w = GGUFWriter()
        let name = URL(fileURLWithPath: model.folder.path).deletingPathExtension().lastPathComponent
        w.set("general.architecture", .string(a))
        w.set("general.name", .string(name))
        w.set("general.file_type", .uint32(quantization.fileType))
        w.set("general.quantization_version", .uint32(2))
        w.set("\(a).context_length", .uint32(UInt32(config.maxPositionEmbeddings)))
        w.set("\(a).embedding_length", .uint32(UInt32(config.hiddenSize)))
        w.set("\(a).block_count", .uint32(UInt32(config.numHiddenLayers)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(config.intermediateSize)))
        w.set("\(a).attention.head_count", .uint32(UInt32(config.numAttentionHeads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(config.numKeyValueHeads)))
        w.set("\(a).attention.key_length", .uint32(UInt32(config.headDim)))
        w.set("\(a).attention.value_length", .uint32(UInt32(config.headDim)))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(config.rmsNormEps))
        w.set("\(a).rope.freq_base", .float32(Float(config.ropeTheta)))
        w.set("\(a).rope.freq_base_swa", .float32(Float(config.ropeLocalBaseFreq)))
        w.set("\(a).attention.sliding_window", .uint32(UInt32(config.slidingWindow)))
        w.set("\(a).attention.sliding_window_pattern", .array((0..<config.numHiddenLayers).map { .bool(!config.isFullAttention(layer: $0)) }))
        w.set("\(a).pooling_type", .uint32(1))
        let dense = model.head.dense
        guard dense.isEmpty || (dense.count == 2 && dense.allSatisfy { $0.bias == nil }) else {
            throw .unsupportedConfiguration("GGUF's gemma-embedding layout holds exactly two Dense projections without bias")
        }
        if dense.count == 2 {
            w.set("\(a).dense_2_feat_in", .uint32(UInt32(dense[0].inFeatures)))
            w.set("\(a).dense_2_feat_out", .uint32(UInt32(dense[0].outFeatures)))
            w.set("\(a).dense_3_feat_in", .uint32(UInt32(dense[1].inFeatures)))
            w.set("\(a).dense_3_feat_out", .uint32(UInt32(dense[1].outFeatures)))
        }
        w.set("tokenizer.ggml.model", .string("llama"))
        w.set("tokenizer.ggml.pre", .string("default"))
        w.set("tokenizer.ggml.tokens", .array((0..<vocabulary.count).map { .string(String(decoding: vocabulary.piece($0), as: UTF8.self)) }))
        w.set("tokenizer.ggml.scores", .array(vocabulary.scores.map { .float32($0) }))
        w.set("tokenizer.ggml.token_type", .array(vocabulary.types.map { .int32($0) }))
        w.set("tokenizer.ggml.bos_token_id", .uint32(UInt32(model.tokenizer.bosTokenId)))
        w.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(model.tokenizer.eosTokenId)))
        if let unknown = vocabulary.types.firstIndex(of: SentencePieceModel.PieceType.unknown.rawValue) {
            w.set("tokenizer.ggml.unknown_token_id", .uint32(UInt32(unknown)))
        }
        w.set("tokenizer.ggml.padding_token_id", .uint32(UInt32(model.tokenizer.padTokenId)))
        w.set("tokenizer.ggml.add_bos_token", .bool(true))
        w.set("tokenizer.ggml.add_eos_token", .bool(true))
        w.set("tokenizer.ggml.add_space_prefix", .bool(false))
        for key in model.folder.prompts.keys.sorted() {
            if let text = model.folder.prompts[key] { w.set(GGUFModelReader.promptPrefix + key, .string(text)) }
        }

        w.add(GGUFTensorNames.tokenEmbedding, matrix: model.encoder.embedding)
        for (i, layer) in model.encoder.layers.enumerated() {
            let n = GGUFTensorNames(layer: i)
            w.add(n.inputNorm, vector: layer.inputNorm)
            w.add(n.query, matrix: layer.query)
            w.add(n.key, matrix: layer.key)
            w.add(n.value, matrix: layer.value)
            w.add(n.queryNorm, vector: layer.queryNorm)
            w.add(n.keyNorm, vector: layer.keyNorm)
            w.add(n.output, matrix: layer.output)
            w.add(n.postAttentionNorm, vector: layer.postAttentionNorm)
            w.add(n.preFeedforwardNorm, vector: layer.preFeedforwardNorm)
            w.add(n.gate, matrix: layer.gate)
            w.add(n.up, matrix: layer.up)
            w.add(n.down, matrix: layer.down)
            w.add(n.postFeedforwardNorm, vector: layer.postFeedforwardNorm)
        }
        w.add(GGUFTensorNames.outputNorm, vector: model.encoder.finalNorm)
        if dense.count == 2 {
            w.add(GGUFTensorNames.dense2, matrix: dense[0].weight)
            w.add(GGUFTensorNames.dense3, matrix: dense[1].weight)
        }
        try w.write(to: path)
    }

    /// The SentencePiece vocabulary of the model's source: `tokenizer.model` of a folder, or the
    /// `tokenizer.ggml.*` arrays of a GGUF file.
    private static func sourceVocabulary(of model: EmbeddingModel) throws(EmbeddingGemmaError) -> SentencePieceModel {
        if let gguf = model.ggufSource {
            return try SentencePieceModel(gguf: gguf)
        }
        let path = model.folder.path + "/tokenizer.model"
        guard FileManager.default.fileExists(atPath: path) else {
            throw .modelNotFound(path: path, hint: "Writing GGUF needs the SentencePiece tokenizer.model of the checkpoint, which llama.cpp reads its vocabulary from.")
        }
        return try SentencePieceModel(path: path)
    }
}
