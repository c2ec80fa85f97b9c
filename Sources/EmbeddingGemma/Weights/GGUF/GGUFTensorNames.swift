/// Tensor names of llama.cpp's `gemma-embedding` architecture, shared by the GGUF model reader
/// and writer so that the two cannot drift apart.
struct GGUFTensorNames {
    /// Token embeddings `[hidden, vocab]`.
    static let tokenEmbedding = "token_embd.weight"
    /// Final RMSNorm (stored as `1 + w`).
    static let outputNorm = "output_norm.weight"
    /// First sentence-transformers Dense projection (2_Dense).
    static let dense2 = "dense_2.weight"
    /// Second Dense projection (3_Dense).
    static let dense3 = "dense_3.weight"

    let inputNorm: String
    let query: String
    let key: String
    let value: String
    let queryNorm: String
    let keyNorm: String
    let output: String
    let postAttentionNorm: String
    let preFeedforwardNorm: String
    let gate: String
    let up: String
    let down: String
    let postFeedforwardNorm: String

    /// The names of layer `index` (`blk.N.…`).
    init(layer index: Int) {
        let p = "blk.\(index)."
        inputNorm = p + "attn_norm.weight"
        query = p + "attn_q.weight"
        key = p + "attn_k.weight"
        value = p + "attn_v.weight"
        queryNorm = p + "attn_q_norm.weight"
        keyNorm = p + "attn_k_norm.weight"
        output = p + "attn_output.weight"
        postAttentionNorm = p + "post_attention_norm.weight"
        preFeedforwardNorm = p + "ffn_norm.weight"
        gate = p + "ffn_gate.weight"
        up = p + "ffn_up.weight"
        down = p + "ffn_down.weight"
        postFeedforwardNorm = p + "post_ffw_norm.weight"
    }
}
