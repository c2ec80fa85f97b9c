#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The float32 master copy of every trainable tensor of an EmbeddingGemma model: the token
/// embeddings, each layer's matrices and norm weights (stored as the checkpoint's `w`, not the
/// `1 + w` the forward multiplies by), the final norm and the Dense head. One tensor per
/// checkpoint tensor, with its name in the file it came from, so a fine-tune is written back in
/// the input's layout.
///
/// Mutable memory shared by the training pass and the optimiser; only the trainer writes it,
/// between passes.
final class TrainableWeights: @unchecked Sendable {
    /// What a tensor is, which decides weight decay and how the forward reads it.
    enum Role: Sendable, Hashable {
        case embedding
        case matrix
        /// An RMSNorm weight `w` (the factor is `1 + w`); no weight decay.
        case norm
        case bias
    }

    /// One tensor.
    struct Tensor: @unchecked Sendable {
        /// Name in its file (`layers.0.self_attn.q_proj.weight`, `linear.weight`, ...).
        let name: String
        /// The file it belongs to, relative to the model folder (`model.safetensors`, `2_Dense/model.safetensors`).
        let file: String
        let shape: [Int]
        let role: Role
        let values: UnsafeMutablePointer<Float>
        var count: Int { shape.reduce(1, *) }
        /// Whether AdamW's weight decay applies (weights, not norms or biases: Hugging Face's trainer).
        var decays: Bool { role == .embedding || role == .matrix }
    }

    /// Indices into ``tensors`` of one layer's parameters.
    struct Layer: Sendable {
        let inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, queryNorm, keyNorm: Int
        let query, key, value, output, gate, up, down: Int
        let isFullAttention: Bool
    }

    let config: GemmaConfig
    private(set) var tensors: [Tensor] = []
    let embedding: Int
    let layers: [Layer]
    let finalNorm: Int
    /// Dense projections of the head, in order: weight and optional bias tensor indices.
    let dense: [(weight: Int, bias: Int?)]
    /// Whether the head L2-normalises.
    let normalizes: Bool

    /// Copies every tensor of the float model in `folder` into owned float32 memory.
    init(folder: ModelFolder) throws(EmbeddingGemmaError) {
        config = folder.config
        normalizes = folder.normalizes
        let file = try SafeTensorsFile(path: folder.path + "/model.safetensors")
        let prefix = try GemmaEncoder.tensorPrefix(in: file)
        var tensors: [Tensor] = []
        func add(_ source: SafeTensorsFile, _ name: String, _ fileName: String, _ shape: [Int], _ role: Role) throws(EmbeddingGemmaError) -> Int {
            let storage = try source.floats(name, shape: shape)
            let count = shape.reduce(1, *)
            let memory = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            memory.update(from: storage.pointer, count: count)
            tensors.append(Tensor(name: name, file: fileName, shape: shape, role: role, values: memory))
            return tensors.count - 1
        }
        let c = config, h = c.hiddenSize
        let qWidth = c.numAttentionHeads * c.headDim, kvWidth = c.numKeyValueHeads * c.headDim
        let main = "model.safetensors"
        embedding = try add(file, prefix + "embed_tokens.weight", main, [c.vocabSize, h], .embedding)
        var layers: [Layer] = []
        for index in 0..<c.numHiddenLayers {
            let p = "\(prefix)layers.\(index)."
            layers.append(Layer(
                inputNorm: try add(file, p + "input_layernorm.weight", main, [h], .norm),
                postAttentionNorm: try add(file, p + "post_attention_layernorm.weight", main, [h], .norm),
                preFeedforwardNorm: try add(file, p + "pre_feedforward_layernorm.weight", main, [h], .norm),
                postFeedforwardNorm: try add(file, p + "post_feedforward_layernorm.weight", main, [h], .norm),
                queryNorm: try add(file, p + "self_attn.q_norm.weight", main, [c.headDim], .norm),
                keyNorm: try add(file, p + "self_attn.k_norm.weight", main, [c.headDim], .norm),
                query: try add(file, p + "self_attn.q_proj.weight", main, [qWidth, h], .matrix),
                key: try add(file, p + "self_attn.k_proj.weight", main, [kvWidth, h], .matrix),
                value: try add(file, p + "self_attn.v_proj.weight", main, [kvWidth, h], .matrix),
                output: try add(file, p + "self_attn.o_proj.weight", main, [h, qWidth], .matrix),
                gate: try add(file, p + "mlp.gate_proj.weight", main, [c.intermediateSize, h], .matrix),
                up: try add(file, p + "mlp.up_proj.weight", main, [c.intermediateSize, h], .matrix),
                down: try add(file, p + "mlp.down_proj.weight", main, [h, c.intermediateSize], .matrix),
                isFullAttention: c.isFullAttention(layer: index)))
        }
        self.layers = layers
        finalNorm = try add(file, prefix + "norm.weight", main, [h], .norm)
        var dense: [(weight: Int, bias: Int?)] = []
        for module in folder.denseModules {
            let relative = String(module.path.dropFirst(folder.path.count + 1)) + "/model.safetensors"
            let source = try SafeTensorsFile(path: module.path + "/model.safetensors")
            let weight = try add(source, "linear.weight", relative, [module.outFeatures, module.inFeatures], .matrix)
            let bias = module.hasBias ? try add(source, "linear.bias", relative, [module.outFeatures], .bias) : nil
            dense.append((weight, bias))
        }
        self.dense = dense
        self.tensors = tensors
    }

    deinit {
        for tensor in tensors { tensor.values.deallocate() }
    }

    /// The tensor at `index`.
    subscript(_ index: Int) -> Tensor { tensors[index] }

    /// Number of trainable values.
    var parameterCount: Int { tensors.reduce(0) { $0 + $1.count } }

    /// An inference model over the current values (no copy of the matrices: the model reads this
    /// memory, so it must not be used while an optimiser step writes it).
    func inferenceModel(folder: ModelFolder, tokenizer: GemmaTokenizer) -> EmbeddingModel {
        func matrix(_ index: Int) -> WeightMatrix {
            let t = tensors[index]
            return WeightMatrix(FloatStorage(viewing: t.values, count: t.count, owner: self), rows: t.shape[0], columns: t.shape[1])
        }
        func factor(_ index: Int) -> FloatStorage {
            let t = tensors[index]
            return FloatStorage(count: t.count) { out in for i in 0..<t.count { out[i] = 1 + t.values[i] } }
        }
        let layerWeights = layers.map { l in
            GemmaLayerWeights(
                norms: (factor(l.inputNorm), factor(l.postAttentionNorm), factor(l.preFeedforwardNorm),
                        factor(l.postFeedforwardNorm), factor(l.queryNorm), factor(l.keyNorm)),
                query: matrix(l.query), key: matrix(l.key), value: matrix(l.value), output: matrix(l.output),
                gate: matrix(l.gate), up: matrix(l.up), down: matrix(l.down), isFullAttention: l.isFullAttention)
        }
        let encoder = GemmaEncoder(config: config, embedding: matrix(embedding), layers: layerWeights, finalNorm: factor(finalNorm))
        let head = EmbeddingHead(dense: dense.map { d in
            EmbeddingHead.Dense(weight: matrix(d.weight), bias: d.bias.map { index in
                FloatStorage(viewing: tensors[index].values, count: tensors[index].count, owner: self)
            })
        }, normalizes: normalizes, inputWidth: config.hiddenSize)
        return EmbeddingModel(folder: folder, tokenizer: tokenizer, encoder: encoder, head: head, gguf: nil)
    }
}
