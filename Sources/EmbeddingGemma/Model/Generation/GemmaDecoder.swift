/// The Gemma 3 text backbone run as a causal decoder for generation: each token attends to
/// itself and the tokens before it (sliding layers only to the last `slidingWindow` of them),
/// keys and values are kept in a ``KVCache``, and the logits come from the tied token embeddings.
///
/// The layer arithmetic around attention is the encoder's (``GemmaLayerStep``, the same weights,
/// kernels and workspace); only attention, the key/value cache and the output projection differ.
struct GemmaDecoder: Sendable {
    let config: GemmaConfig
    /// Token embeddings `[vocab × hidden]`, also the output projection.
    let embedding: WeightMatrix
    let layers: [GemmaLayerWeights]
    /// Final RMSNorm factor (`1 + w`).
    let finalNorm: FloatStorage
    /// Positions the rotary tables (and so the caches) cover.
    let context: Int
    private let localRotary: RotaryTable
    private let globalRotary: RotaryTable
    private let embeddingScale: Float
    private let attentionScale: Float
    /// Rows of the output projection decoded to float32 at a time, when its encoding has no
    /// direct kernel (keeps a 262 144-row table from being decoded whole).
    private static let outputTileRows = 4096

    init(backbone: GGUFBackbone, context: Int) {
        config = backbone.config
        embedding = backbone.embedding
        layers = backbone.layers
        finalNorm = backbone.finalNorm
        self.context = context
        localRotary = RotaryTable(base: config.ropeLocalBaseFreq, headDim: config.headDim, positions: context)
        globalRotary = RotaryTable(base: config.ropeTheta, headDim: config.headDim, positions: context, linearScaling: backbone.ropeScaling)
        embeddingScale = Float(Double(config.hiddenSize).squareRoot())
        attentionScale = Float(1 / config.queryPreAttnScalar.squareRoot())
    }

    /// Most tokens one ``forward(_:cache:)`` reads (longer prompts are read in passes of this size).
    static let maxTokensPerPass = 512

    /// A cache for one generation over this decoder's context: every position for global layers,
    /// the window and one pass for sliding layers.
    /// - Parameter fullSliding: keep every position on sliding layers too (for checks).
    func makeCache(fullSliding: Bool = false) -> KVCache {
        let sliding = fullSliding ? context : min(context, config.slidingWindow + Self.maxTokensPerPass)
        return KVCache(capacities: layers.map { $0.isFullAttention ? context : sliding }, width: config.numKeyValueHeads * config.headDim)
    }

    /// Floats of decode scratch the products need.
    private var scratchCount: Int {
        max(layers.map(\.scratchCount).max() ?? 0, Matmul.scratchCount(for: embedding) > 0 ? Self.outputTileRows * config.hiddenSize : 0)
    }

    /// Reads `tokens` at positions `cache.count ..< cache.count + tokens.count`, appending their
    /// keys and values to `cache`, and returns the logits `[vocab]` after the last of them.
    /// The caller keeps `cache.count + tokens.count ≤ context` and every id in the vocabulary.
    func forward(_ tokens: [Int32], cache: KVCache) -> [Float] {
        let n = tokens.count
        precondition(n > 0 && n <= Self.maxTokensPerPass && cache.count + n <= context, "tokens beyond the decoder's context or pass")
        let h = config.hiddenSize
        let kvWidth = config.numKeyValueHeads * config.headDim
        let eps = config.rmsNormEps
        let start = cache.count

        let work = EncoderWorkspace(tokens: n, config: config, scratch: scratchCount)
        let scratch = work.weightScratch
        let xp = work.hidden, np = work.normed, pp = work.positions
        for t in 0..<n { pp[t] = Int32(start + t) }

        let scale = embeddingScale
        for t in 0..<n {
            embedding.decode(rows: Int(tokens[t])..<(Int(tokens[t]) + 1), into: xp + t * h)
            for i in 0..<h { xp[t * h + i] *= scale }
        }

        let step = GemmaLayerStep(config: config, work: work, rows: n, statistics: nil, activations: .float32)
        for (index, layer) in layers.enumerated() {
            step.beforeAttention(layer, index: index, rotary: layer.isFullAttention ? globalRotary : localRotary)
            // The oldest position the first new token sees (all of them on global layers).
            let oldest = layer.isFullAttention ? 0 : max(0, start - config.slidingWindow + 1)
            let row = cache.reserve(layer: index, start: start, count: n, oldest: oldest)
            (cache.keys(index) + row * kvWidth).initialize(from: work.key, count: n * kvWidth)
            (cache.values(index) + row * kvWidth).initialize(from: work.value, count: n * kvWidth)
            attend(queries: work.query, cache: cache, layer: index, start: start, count: n, full: layer.isFullAttention,
                   into: work.attention)
            step.afterAttention(layer, index: index)
        }
        cache.count = start + n

        // Only the last token's logits are needed to continue.
        let last = xp + (n - 1) * h
        Kernels.rmsNorm(last, into: np, rows: 1, width: h, scale: finalNorm.pointer, eps: eps)
        var logits = [Float](repeating: 0, count: embedding.rows)
        logits.withUnsafeMutableBufferPointer { out in
            guard let o = out.baseAddress else { return }
            project(np, into: o, scratch: scratch)
        }
        return withExtendedLifetime(work) { logits }
    }

    /// Logits of one normalised hidden row against the token embeddings.
    private func project(_ row: UnsafePointer<Float>, into logits: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        guard Matmul.scratchCount(for: embedding) > 0 else {
            Matmul.linear(row, rows: 1, weight: embedding, into: logits, scratch: scratch)
            return
        }
        let h = config.hiddenSize
        for first in stride(from: 0, to: embedding.rows, by: Self.outputTileRows) {
            let count = min(Self.outputTileRows, embedding.rows - first)
            embedding.decode(rows: first..<(first + count), into: scratch)
            Matmul.linear(row, rows: 1, inFeatures: h, weight: scratch, outFeatures: count, into: logits + first)
        }
    }

    /// Causal attention of the `count` new tokens (positions `start…`) over the cached keys and
    /// values of `layer`; heads are shared out across threads.
    private func attend(queries q: UnsafePointer<Float>, cache: KVCache, layer: Int, start: Int, count n: Int, full: Bool,
                        into out: UnsafeMutablePointer<Float>) {
        let heads = config.numAttentionHeads
        let group = heads / config.numKeyValueHeads
        let hd = config.headDim
        let qWidth = heads * hd
        let kvWidth = config.numKeyValueHeads * hd
        let window = config.slidingWindow
        // Keys of the block: from the first key the first new token sees to the last new token.
        let k0 = full ? 0 : max(0, start - window + 1)
        let k1 = start + n
        let keys = k1 - k0
        // Row of position p: p - first.
        let first = cache.firstPositions[layer]
        let keyBase = cache.keys(layer) - first * kvWidth, valueBase = cache.values(layer) - first * kvWidth
        let scale = attentionScale
        let output = UncheckedSendable(out), queries = UncheckedSendable(q)
        let keyPointer = UncheckedSendable(keyBase), valuePointer = UncheckedSendable(valueBase)
        Parallel.forEachChunk(heads, grain: 1) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: n * keys)
            defer { scores.deallocate() }
            for head in range {
                let kvHead = head / group
                Matmul.multiply(queries.value + head * hd, lda: qWidth,
                                keyPointer.value + k0 * kvWidth + kvHead * hd, ldb: kvWidth, transposeB: true,
                                into: scores, ldc: keys, m: n, n: keys, k: hd, alpha: scale)
                for t in 0..<n {
                    let position = start + t
                    let lower = full ? 0 : max(0, position - window + 1)
                    Kernels.softmax(scores + t * keys, count: keys, lower: lower - k0, upper: position + 1 - k0)
                }
                Matmul.multiply(scores, lda: keys, valuePointer.value + k0 * kvWidth + kvHead * hd, ldb: kvWidth, transposeB: false,
                                into: output.value + head * hd, ldc: qWidth, m: n, n: hd, k: keys)
            }
        }
    }
}
