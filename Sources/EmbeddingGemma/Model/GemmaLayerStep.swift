/// The arithmetic of one Gemma 3 layer around its attention, shared by the bidirectional encoder
/// and the causal decoder, which differ only in how queries meet keys: the input RMSNorm, the
/// query/key/value projections, the query and key RMSNorms and RoPE before attention; the output
/// projection, the post-attention and pre-feed-forward norms, the GELU-gated feed-forward block and
/// its norm after it. Row-wise steps are shared out across threads; every product goes through
/// ``Matmul``.
struct GemmaLayerStep {
    let config: GemmaConfig
    /// The pass's buffers: the residual stream in `hidden`, queries/keys/values in `query`/`key`/`value`,
    /// attention output in `attention`, token positions in `positions`.
    let work: EncoderWorkspace
    /// Tokens in `work`.
    let rows: Int
    /// When set, the input of every product is recorded (calibration statistics).
    var statistics: ActivationStatistics?
    /// How products with Q8_0/Q4_0 weights take their inputs: the encoder lets them go int8 where
    /// that is faster, the decoder keeps them float32.
    var activations: Matmul.ActivationCoding

    /// Input norm, projections, query/key norms and RoPE (at `work.positions`) of `layer`: leaves
    /// the queries, keys and values of every token in `work.query`, `work.key` and `work.value`.
    func beforeAttention(_ layer: GemmaLayerWeights, index: Int, rotary: RotaryTable) {
        let n = rows, h = config.hiddenSize, eps = config.rmsNormEps
        let heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, hd = config.headDim
        let qWidth = heads * hd, kvWidth = kvHeads * hd
        let xp = work.hidden, np = work.normed, qp = work.query, kp = work.key, vp = work.value, pp = work.positions
        let scratch = work.weightScratch
        Parallel.forEachChunk(n, grain: 32) { r in
            Kernels.rmsNorm(xp + r.lowerBound * h, into: np + r.lowerBound * h, rows: r.count, width: h,
                            scale: layer.inputNorm.pointer, eps: eps)
        }
        statistics?.record(layer: index, site: .attentionInput, input: np, rows: n)
        Matmul.linear(np, rows: n, products: [(layer.query, qp), (layer.key, kp), (layer.value, vp)], scratch: scratch,
                      activations: activations)
        Parallel.forEachChunk(n, grain: 32) { r in
            let lo = r.lowerBound
            Kernels.rmsNorm(qp + lo * qWidth, into: qp + lo * qWidth, rows: r.count * heads, width: hd,
                            scale: layer.queryNorm.pointer, eps: eps)
            Kernels.rmsNorm(kp + lo * kvWidth, into: kp + lo * kvWidth, rows: r.count * kvHeads, width: hd,
                            scale: layer.keyNorm.pointer, eps: eps)
            Kernels.rope(qp + lo * qWidth, rows: r.count, heads: heads, headDim: hd, rowStride: qWidth,
                         positions: pp + lo, cos: rotary.cos.pointer, sin: rotary.sin.pointer)
            Kernels.rope(kp + lo * kvWidth, rows: r.count, heads: kvHeads, headDim: hd, rowStride: kvWidth,
                         positions: pp + lo, cos: rotary.cos.pointer, sin: rotary.sin.pointer)
        }
    }

    /// Output projection of `work.attention`, its norm added to the residual stream, then the
    /// feed-forward block on the normalised stream and its norm added to the residual.
    func afterAttention(_ layer: GemmaLayerWeights, index: Int) {
        let n = rows, h = config.hiddenSize, eps = config.rmsNormEps, inter = config.intermediateSize
        let xp = work.hidden, np = work.normed, ap = work.attention, gp = work.gate, upp = work.up
        let scratch = work.weightScratch
        statistics?.record(layer: index, site: .attentionOutput, input: ap, rows: n)
        Matmul.linear(ap, rows: n, weight: layer.output, into: np, scratch: scratch, activations: activations)
        Parallel.forEachChunk(n, grain: 32) { r in
            Kernels.rmsNorm(np + r.lowerBound * h, into: xp + r.lowerBound * h, rows: r.count, width: h,
                            scale: layer.postAttentionNorm.pointer, eps: eps, accumulate: true)
            Kernels.rmsNorm(xp + r.lowerBound * h, into: np + r.lowerBound * h, rows: r.count, width: h,
                            scale: layer.preFeedforwardNorm.pointer, eps: eps)
        }
        statistics?.record(layer: index, site: .feedForwardInput, input: np, rows: n)
        // Over the rows in bands of `work.feedForwardRows` (one band unless the workspace was made
        // smaller): each band's down projection overwrites its own rows of `normed`, already read.
        let band = work.feedForwardRows
        for first in stride(from: 0, to: n, by: band) {
            let count = min(band, n - first)
            Matmul.linear(np + first * h, rows: count, products: [(layer.gate, gp), (layer.up, upp)], scratch: scratch, activations: activations)
            Parallel.forEachChunk(count, grain: 16) { r in
                Kernels.geluMultiply(gp + r.lowerBound * inter, upp + r.lowerBound * inter, count: r.count * inter)
            }
            statistics?.record(layer: index, site: .feedForwardHidden, input: gp, rows: count)
            Matmul.linear(gp, rows: count, weight: layer.down, into: np + first * h, scratch: scratch, activations: activations)
        }
        Parallel.forEachChunk(n, grain: 32) { r in
            Kernels.rmsNorm(np + r.lowerBound * h, into: xp + r.lowerBound * h, rows: r.count, width: h,
                            scale: layer.postFeedforwardNorm.pointer, eps: eps, accumulate: true)
        }
    }
}
