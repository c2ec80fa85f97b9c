/// The Gemma 3 text backbone's hyper-parameters, read from `config.json`.
public struct GemmaConfig: Sendable, Decodable, Equatable {
    /// Width of the residual stream (768).
    public var hiddenSize: Int
    /// Width of the feed-forward layer (1152).
    public var intermediateSize: Int
    /// Number of transformer layers (24).
    public var numHiddenLayers: Int
    /// Query heads per layer (3).
    public var numAttentionHeads: Int
    /// Key/value heads per layer (1).
    public var numKeyValueHeads: Int
    /// Width of one head (256).
    public var headDim: Int
    /// RMSNorm epsilon.
    public var rmsNormEps: Float
    /// RoPE base of full-attention layers.
    public var ropeTheta: Double
    /// RoPE base of sliding-window layers.
    public var ropeLocalBaseFreq: Double
    /// Sliding window size as configured; tokens attend within distance `slidingWindow / 2`.
    public var slidingWindow: Int
    /// `sliding_attention` or `full_attention` for each layer.
    public var layerTypes: [String]
    /// Attention scores are scaled by `queryPreAttnScalar^-0.5`.
    public var queryPreAttnScalar: Double
    /// Number of token embeddings.
    public var vocabSize: Int
    /// Longest input the positions cover.
    public var maxPositionEmbeddings: Int
    /// Feed-forward activation; only `gelu_pytorch_tanh` is supported.
    public var hiddenActivation: String
    /// Must be absent or null: Gemma 3 does not cap attention logits.
    public var attnLogitSoftcapping: Double?
    /// Whether attention is bidirectional (EmbeddingGemma: true).
    public var useBidirectionalAttention: Bool?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeLocalBaseFreq = "rope_local_base_freq"
        case slidingWindow = "sliding_window"
        case layerTypes = "layer_types"
        case queryPreAttnScalar = "query_pre_attn_scalar"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case hiddenActivation = "hidden_activation"
        case attnLogitSoftcapping = "attn_logit_softcapping"
        case useBidirectionalAttention = "use_bidirectional_attention"
    }

    /// Largest token distance a sliding-window layer attends over: |i − j| ≤ this value.
    /// The reference turns a window of 512 into |i − j| < 257.
    public var slidingRadius: Int { slidingWindow / 2 }

    /// Whether layer `index` attends over the whole sequence.
    public func isFullAttention(layer index: Int) -> Bool {
        layerTypes[index] == "full_attention"
    }

    /// Checks that this engine implements what the configuration describes.
    /// Checks the configuration is one this engine runs (causal attention only for the generator).
    func validate(causalAllowed: Bool = false) throws(EmbeddingGemmaError) {
        guard layerTypes.count == numHiddenLayers else {
            throw .unsupportedConfiguration("layer_types has \(layerTypes.count) entries for \(numHiddenLayers) layers")
        }
        for type in layerTypes where type != "full_attention" && type != "sliding_attention" {
            throw .unsupportedConfiguration("layer type \(type)")
        }
        guard hiddenActivation == "gelu_pytorch_tanh" else {
            throw .unsupportedConfiguration("activation \(hiddenActivation); only gelu_pytorch_tanh is implemented")
        }
        guard attnLogitSoftcapping == nil else {
            throw .unsupportedConfiguration("attention logit soft-capping")
        }
        guard causalAllowed || useBidirectionalAttention ?? true else {
            throw .unsupportedConfiguration("causal attention; this engine runs the bidirectional EmbeddingGemma encoder")
        }
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0, headDim % 2 == 0,
              hiddenSize > 0, intermediateSize > 0, vocabSize > 0, maxPositionEmbeddings > 0 else {
            throw .unsupportedConfiguration("inconsistent head or layer sizes")
        }
    }
}
