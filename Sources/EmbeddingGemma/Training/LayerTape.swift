/// One Gemma 3 encoder layer run forward with every intermediate value kept, and its backward
/// pass. The forward is the inference layer's arithmetic (``GemmaLayerStep`` and the encoder's
/// attention) on the same kernels, written out so that nothing is overwritten: input norm,
/// query/key/value projections, query and key norms, RoPE, bidirectional attention with one
/// shared key/value head per group and the sliding window, output projection and its norm into
/// the residual, the GELU-gated feed-forward block and its norm into the residual.
///
/// About 41 KB per token with EmbeddingGemma's sizes. ``TrainingPass`` keeps one tape per layer
/// when they fit its activation budget and otherwise keeps only each layer's input and re-runs
/// the forward of one layer at a time during the backward pass.
final class LayerTape: @unchecked Sendable {
    let rows: Int
    let normed, query, key, value, rotatedQuery, rotatedKey, attention, projected, middle, normedMiddle: FloatBuffer
    let gate, up, product, down: FloatBuffer
    /// Softmax probabilities, per sequence `[heads × length × length]` at ``probabilityOffsets``.
    let probabilities: FloatBuffer
    let probabilityOffsets: [Int]

    init(rows: Int, lengths: [Int], config: GemmaConfig, pool: BufferPool) {
        let h = config.hiddenSize, inter = config.intermediateSize
        let qWidth = config.numAttentionHeads * config.headDim, kvWidth = config.numKeyValueHeads * config.headDim
        self.rows = rows
        normed = pool.take(rows * h)
        query = pool.take(rows * qWidth)
        key = pool.take(rows * kvWidth)
        value = pool.take(rows * kvWidth)
        rotatedQuery = pool.take(rows * qWidth)
        rotatedKey = pool.take(rows * kvWidth)
        attention = pool.take(rows * qWidth)
        projected = pool.take(rows * h)
        middle = pool.take(rows * h)
        normedMiddle = pool.take(rows * h)
        gate = pool.take(rows * inter)
        up = pool.take(rows * inter)
        product = pool.take(rows * inter)
        down = pool.take(rows * h)
        var offsets: [Int] = []
        var total = 0
        for length in lengths {
            offsets.append(total)
            total += config.numAttentionHeads * length * length
        }
        probabilityOffsets = offsets
        probabilities = pool.take(total)
    }

    /// Every buffer of the tape, to give back to its pool.
    var buffers: [FloatBuffer] {
        [normed, query, key, value, rotatedQuery, rotatedKey, attention, projected, middle, normedMiddle, gate, up, product, down,
         probabilities]
    }

    /// Bytes of activations a tape holds for `rows` tokens in sequences of `lengths`.
    static func byteCount(rows: Int, lengths: [Int], config: GemmaConfig) -> Int {
        let h = config.hiddenSize, inter = config.intermediateSize
        let qWidth = config.numAttentionHeads * config.headDim, kvWidth = config.numKeyValueHeads * config.headDim
        let perRow = 6 * h + 3 * qWidth + 4 * kvWidth + 3 * inter
        return 4 * (rows * perRow + lengths.reduce(0) { $0 + config.numAttentionHeads * $1 * $1 })
    }
}

/// The forward and backward arithmetic of one layer over a ``LayerTape``.
struct LayerArithmetic {
    let config: GemmaConfig
    let weights: TrainableWeights
    let layer: TrainableWeights.Layer
    /// Norm factors `1 + w` of the layer, by tensor index.
    let factors: [Int: FloatBuffer]
    let rotary: RotaryTable
    /// The same table with negated sines (the inverse rotation, RoPE's backward).
    let inverseRotary: RotaryTable
    let positions: UnsafePointer<Int32>
    let starts: [Int]
    let lengths: [Int]

    var h: Int { config.hiddenSize }
    var heads: Int { config.numAttentionHeads }
    var hd: Int { config.headDim }
    var qWidth: Int { config.numAttentionHeads * config.headDim }
    var kvWidth: Int { config.numKeyValueHeads * config.headDim }
    var inter: Int { config.intermediateSize }
    var eps: Float { config.rmsNormEps }
    var attentionScale: Float { Float(1 / config.queryPreAttnScalar.squareRoot()) }
    var radius: Int { layer.isFullAttention ? Int.max / 4 : config.slidingRadius }

    func factor(_ index: Int) -> UnsafePointer<Float> {
        guard let buffer = factors[index] else { preconditionFailure("tensor \(index) is not a norm") }
        return UnsafePointer(buffer.pointer)
    }
    func values(_ index: Int) -> UnsafePointer<Float> { UnsafePointer(weights[index].values) }

    /// Runs the layer on `input` (`[rows × hidden]`), filling `tape` and writing the output to `output`.
    func forward(input: UnsafePointer<Float>, tape: LayerTape, output: UnsafeMutablePointer<Float>) {
        let n = tape.rows, h = h, eps = eps, heads = heads, hd = hd, qWidth = qWidth, kvWidth = kvWidth
        let kvHeads = config.numKeyValueHeads
        let np = tape.normed.pointer, qp = tape.query.pointer, kp = tape.key.pointer, vp = tape.value.pointer
        let qr = tape.rotatedQuery.pointer, kr = tape.rotatedKey.pointer
        let inputNorm = factor(layer.inputNorm), queryNorm = factor(layer.queryNorm), keyNorm = factor(layer.keyNorm)
        let positions = positions, rotary = rotary
        Parallel.forEachChunk(n, grain: 32) { r in
            Kernels.rmsNorm(input + r.lowerBound * h, into: np + r.lowerBound * h, rows: r.count, width: h, scale: inputNorm, eps: eps)
        }
        Matmul.linear(np, rows: n, inFeatures: h, weight: values(layer.query), outFeatures: qWidth, into: qp)
        Matmul.linear(np, rows: n, inFeatures: h, weight: values(layer.key), outFeatures: kvWidth, into: kp)
        Matmul.linear(np, rows: n, inFeatures: h, weight: values(layer.value), outFeatures: kvWidth, into: vp)
        Parallel.forEachChunk(n, grain: 32) { r in
            let lo = r.lowerBound
            Kernels.rmsNorm(qp + lo * qWidth, into: qr + lo * qWidth, rows: r.count * heads, width: hd, scale: queryNorm, eps: eps)
            Kernels.rmsNorm(kp + lo * kvWidth, into: kr + lo * kvWidth, rows: r.count * kvHeads, width: hd, scale: keyNorm, eps: eps)
            Kernels.rope(qr + lo * qWidth, rows: r.count, heads: heads, headDim: hd, rowStride: qWidth,
                         positions: positions + lo, cos: rotary.cos.pointer, sin: rotary.sin.pointer)
            Kernels.rope(kr + lo * kvWidth, rows: r.count, heads: kvHeads, headDim: hd, rowStride: kvWidth,
                         positions: positions + lo, cos: rotary.cos.pointer, sin: rotary.sin.pointer)
        }
        attendForward(tape)
        let ap = tape.attention.pointer, op = tape.projected.pointer, mp = tape.middle.pointer, mn = tape.normedMiddle.pointer
        Matmul.linear(ap, rows: n, inFeatures: qWidth, weight: values(layer.output), outFeatures: h, into: op)
        let postAttention = factor(layer.postAttentionNorm), preFeedforward = factor(layer.preFeedforwardNorm)
        Parallel.forEachChunk(n, grain: 32) { r in
            let lo = r.lowerBound * h
            (mp + lo).update(from: input + lo, count: r.count * h)
            Kernels.rmsNorm(op + lo, into: mp + lo, rows: r.count, width: h, scale: postAttention, eps: eps, accumulate: true)
            Kernels.rmsNorm(mp + lo, into: mn + lo, rows: r.count, width: h, scale: preFeedforward, eps: eps)
        }
        let gp = tape.gate.pointer, upp = tape.up.pointer, pp = tape.product.pointer, dp = tape.down.pointer, inter = inter
        Matmul.linear(mn, rows: n, inFeatures: h, weight: values(layer.gate), outFeatures: inter, into: gp)
        Matmul.linear(mn, rows: n, inFeatures: h, weight: values(layer.up), outFeatures: inter, into: upp)
        Parallel.forEachChunk(n, grain: 16) { r in
            let lo = r.lowerBound * inter
            (pp + lo).update(from: gp + lo, count: r.count * inter)
            Kernels.geluMultiply(pp + lo, upp + lo, count: r.count * inter)
        }
        Matmul.linear(pp, rows: n, inFeatures: inter, weight: values(layer.down), outFeatures: h, into: dp)
        let postFeedforward = factor(layer.postFeedforwardNorm)
        Parallel.forEachChunk(n, grain: 32) { r in
            let lo = r.lowerBound * h
            (output + lo).update(from: mp + lo, count: r.count * h)
            Kernels.rmsNorm(dp + lo, into: output + lo, rows: r.count, width: h, scale: postFeedforward, eps: eps, accumulate: true)
        }
    }

    /// Scores, masked softmax and weighted values of every sequence (sequences in parallel).
    private func attendForward(_ tape: LayerTape) {
        let heads = heads, hd = hd, qWidth = qWidth, kvWidth = kvWidth, scale = attentionScale, radius = radius
        let group = heads / config.numKeyValueHeads
        let starts = starts, lengths = lengths
        let qr = tape.rotatedQuery.pointer, kr = tape.rotatedKey.pointer, vp = tape.value.pointer
        let ap = tape.attention.pointer, probabilities = tape.probabilities.pointer, offsets = tape.probabilityOffsets
        Parallel.forEachChunk(lengths.count, grain: 1) { sequences in
            for s in sequences {
                let start = starts[s], length = lengths[s]
                for head in 0..<heads {
                    let kvHead = head / group
                    let p = probabilities + offsets[s] + head * length * length
                    Matmul.multiply(qr + start * qWidth + head * hd, lda: qWidth, kr + start * kvWidth + kvHead * hd, ldb: kvWidth,
                                    transposeB: true, into: p, ldc: length, m: length, n: length, k: hd, alpha: scale)
                    for i in 0..<length {
                        Kernels.softmax(p + i * length, count: length, lower: max(0, i - radius), upper: min(length, i + radius + 1))
                    }
                    Matmul.multiply(p, lda: length, vp + start * kvWidth + kvHead * hd, ldb: kvWidth, transposeB: false,
                                    into: ap + start * qWidth + head * hd, ldc: qWidth, m: length, n: hd, k: length)
                }
            }
        }
    }
}
