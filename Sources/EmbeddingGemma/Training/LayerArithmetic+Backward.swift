#if canImport(Accelerate)
import Accelerate
#elseif canImport(COpenBLAS)
import COpenBLAS
#endif

/// Gradient buffers of one layer's backward pass, reused from layer to layer.
final class BackwardScratch: @unchecked Sendable {
    let hidden, middle, inter1, inter2, attention, query, key, value: FloatBuffer

    init(rows: Int, config: GemmaConfig, pool: BufferPool) {
        let h = config.hiddenSize
        let qWidth = config.numAttentionHeads * config.headDim, kvWidth = config.numKeyValueHeads * config.headDim
        hidden = pool.take(rows * h)
        middle = pool.take(rows * h)
        inter1 = pool.take(rows * config.intermediateSize)
        inter2 = pool.take(rows * config.intermediateSize)
        attention = pool.take(rows * qWidth)
        query = pool.take(rows * qWidth)
        key = pool.take(rows * kvWidth)
        value = pool.take(rows * kvWidth)
    }
}

extension BackwardScratch {
    /// Every buffer, to give back to its pool.
    var buffers: [FloatBuffer] { [hidden, middle, inter1, inter2, attention, query, key, value] }
}

extension LayerArithmetic {
    /// Backward pass of the layer whose forward filled `tape` from `input`: from `dOutput`
    /// (`dL/d output`), writes `dL/d input` to `dInput` (which may be `dOutput`) and adds every
    /// weight's gradient to `gradients`.
    func backward(input: UnsafePointer<Float>, tape: LayerTape, dOutput: UnsafePointer<Float>,
                  dInput: UnsafeMutablePointer<Float>, scratch: BackwardScratch, gradients: Gradients) {
        let n = tape.rows, h = h, inter = inter, qWidth = qWidth, kvWidth = kvWidth
        let dh = scratch.hidden.pointer, dMiddle = scratch.middle.pointer
        let dGate = scratch.inter1.pointer, dUp = scratch.inter2.pointer

        // out = middle + norm(down): the residual passes dOutput on; the norm's input gets dd.
        dMiddle.update(from: dOutput, count: n * h)
        normBackward(input: tape.down.pointer, norm: layer.postFeedforwardNorm, dy: dOutput, into: dh, accumulate: false,
                     rows: n, width: h, gradients: gradients)
        // down = product · Wdᵀ.
        BackwardKernels.product(dh, lda: h, transposeA: false, values(layer.down), ldb: inter, transposeB: false,
                                into: dGate, ldc: inter, m: n, n: inter, k: h, beta: 0)
        BackwardKernels.product(dh, lda: h, transposeA: true, tape.product.pointer, ldb: inter, transposeB: false,
                                into: gradients[layer.down], ldc: inter, m: h, n: inter, k: n, beta: 1)
        // product = gelu(gate) · up.
        let gp = tape.gate.pointer, upp = tape.up.pointer
        Parallel.forEachChunk(n, grain: 16) { r in
            let lo = r.lowerBound * inter
            BackwardKernels.geluMultiply(gate: gp + lo, up: upp + lo, gradient: dGate + lo, gateGradient: dGate + lo,
                                         upGradient: dUp + lo, count: r.count * inter)
        }
        // gate, up = normedMiddle · Wᵀ.
        BackwardKernels.product(dGate, lda: inter, transposeA: false, values(layer.gate), ldb: h, transposeB: false,
                                into: dh, ldc: h, m: n, n: h, k: inter, beta: 0)
        BackwardKernels.product(dUp, lda: inter, transposeA: false, values(layer.up), ldb: h, transposeB: false,
                                into: dh, ldc: h, m: n, n: h, k: inter, beta: 1)
        BackwardKernels.product(dGate, lda: inter, transposeA: true, tape.normedMiddle.pointer, ldb: h, transposeB: false,
                                into: gradients[layer.gate], ldc: h, m: inter, n: h, k: n, beta: 1)
        BackwardKernels.product(dUp, lda: inter, transposeA: true, tape.normedMiddle.pointer, ldb: h, transposeB: false,
                                into: gradients[layer.up], ldc: h, m: inter, n: h, k: n, beta: 1)
        // normedMiddle = norm(middle); middle = input + norm(projected).
        normBackward(input: tape.middle.pointer, norm: layer.preFeedforwardNorm, dy: dh, into: dMiddle, accumulate: true,
                     rows: n, width: h, gradients: gradients)
        normBackward(input: tape.projected.pointer, norm: layer.postAttentionNorm, dy: dMiddle, into: dh, accumulate: false,
                     rows: n, width: h, gradients: gradients)
        // projected = attention · Woᵀ.
        let dAttention = scratch.attention.pointer
        BackwardKernels.product(dh, lda: h, transposeA: false, values(layer.output), ldb: qWidth, transposeB: false,
                                into: dAttention, ldc: qWidth, m: n, n: qWidth, k: h, beta: 0)
        BackwardKernels.product(dh, lda: h, transposeA: true, tape.attention.pointer, ldb: qWidth, transposeB: false,
                                into: gradients[layer.output], ldc: qWidth, m: h, n: qWidth, k: n, beta: 1)
        attendBackward(tape, dAttention: dAttention, scratch: scratch)
        // RoPE (a rotation: its backward rotates back), then the query and key norms.
        let dq = scratch.query.pointer, dk = scratch.key.pointer, dv = scratch.value.pointer
        let positions = positions, inverse = inverseRotary, heads = heads, kvHeads = config.numKeyValueHeads, hd = hd
        Parallel.forEachChunk(n, grain: 32) { r in
            let lo = r.lowerBound
            Kernels.rope(dq + lo * qWidth, rows: r.count, heads: heads, headDim: hd, rowStride: qWidth,
                         positions: positions + lo, cos: inverse.cos.pointer, sin: inverse.sin.pointer)
            Kernels.rope(dk + lo * kvWidth, rows: r.count, heads: kvHeads, headDim: hd, rowStride: kvWidth,
                         positions: positions + lo, cos: inverse.cos.pointer, sin: inverse.sin.pointer)
        }
        normBackward(input: tape.query.pointer, norm: layer.queryNorm, dy: dq, into: dq, accumulate: false,
                     rows: n * heads, width: hd, gradients: gradients)
        normBackward(input: tape.key.pointer, norm: layer.keyNorm, dy: dk, into: dk, accumulate: false,
                     rows: n * kvHeads, width: hd, gradients: gradients)
        // query, key, value = normed · Wᵀ.
        let np = tape.normed.pointer
        BackwardKernels.product(dq, lda: qWidth, transposeA: false, values(layer.query), ldb: h, transposeB: false,
                                into: dh, ldc: h, m: n, n: h, k: qWidth, beta: 0)
        BackwardKernels.product(dk, lda: kvWidth, transposeA: false, values(layer.key), ldb: h, transposeB: false,
                                into: dh, ldc: h, m: n, n: h, k: kvWidth, beta: 1)
        BackwardKernels.product(dv, lda: kvWidth, transposeA: false, values(layer.value), ldb: h, transposeB: false,
                                into: dh, ldc: h, m: n, n: h, k: kvWidth, beta: 1)
        BackwardKernels.product(dq, lda: qWidth, transposeA: true, np, ldb: h, transposeB: false,
                                into: gradients[layer.query], ldc: h, m: qWidth, n: h, k: n, beta: 1)
        BackwardKernels.product(dk, lda: kvWidth, transposeA: true, np, ldb: h, transposeB: false,
                                into: gradients[layer.key], ldc: h, m: kvWidth, n: h, k: n, beta: 1)
        BackwardKernels.product(dv, lda: kvWidth, transposeA: true, np, ldb: h, transposeB: false,
                                into: gradients[layer.value], ldc: h, m: kvWidth, n: h, k: n, beta: 1)
        // normed = norm(input); the residual passes dMiddle on.
        if UnsafePointer(dInput) != UnsafePointer(dMiddle) { dInput.update(from: dMiddle, count: n * h) }
        normBackward(input: input, norm: layer.inputNorm, dy: dh, into: dInput, accumulate: true,
                     rows: n, width: h, gradients: gradients)
    }

    /// RMSNorm backward over `rows` rows, rows shared out across threads; the norm weight's
    /// gradient is summed per thread, then added to `gradients`.
    func normBackward(input: UnsafePointer<Float>, norm: Int, dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                      accumulate: Bool, rows: Int, width: Int, gradients: Gradients) {
        let threads = Parallel.threadCount
        let partial = FloatBuffer(threads * width)
        let per = (rows + threads - 1) / threads
        let scale = factor(norm), eps = eps
        Parallel.forEachChunk(threads, grain: 1) { chunks in
            for chunk in chunks {
                let first = chunk * per, last = min(rows, first + per)
                guard first < last else { continue }
                BackwardKernels.rmsNorm(input: input + first * width, scale: scale, gradient: dy + first * width,
                                        into: dx + first * width, accumulate: accumulate,
                                        scaleGradient: partial.pointer + chunk * width, rows: last - first, width: width, eps: eps)
            }
        }
        let target = gradients[norm]
        for chunk in 0..<threads {
            for i in 0..<width { target[i] += partial.pointer[chunk * width + i] }
        }
    }

    /// Attention backward per sequence (in parallel): from `dAttention`, the gradients of the
    /// rotated queries and keys (in `scratch.query`, `scratch.key`) and of the values (`scratch.value`).
    private func attendBackward(_ tape: LayerTape, dAttention: UnsafePointer<Float>, scratch: BackwardScratch) {
        let heads = heads, hd = hd, qWidth = qWidth, kvWidth = kvWidth, scale = attentionScale
        let group = heads / config.numKeyValueHeads
        let starts = starts, lengths = lengths
        let qr = tape.rotatedQuery.pointer, kr = tape.rotatedKey.pointer, vp = tape.value.pointer
        let probabilities = tape.probabilities.pointer, offsets = tape.probabilityOffsets
        let dq = scratch.query.pointer, dk = scratch.key.pointer, dv = scratch.value.pointer
        dk.update(repeating: 0, count: tape.rows * kvWidth)
        dv.update(repeating: 0, count: tape.rows * kvWidth)
        let longest = lengths.max() ?? 0
        Parallel.forEachChunk(lengths.count, grain: 1) { sequences in
            let dScores = FloatBuffer(longest * longest)
            for s in sequences {
                let start = starts[s], length = lengths[s]
                let ds = dScores.pointer
                for head in 0..<heads {
                    let kvHead = head / group
                    let p = probabilities + offsets[s] + head * length * length
                    let dA = dAttention + start * qWidth + head * hd
                    let v = vp + start * kvWidth + kvHead * hd
                    let q = qr + start * qWidth + head * hd
                    let k = kr + start * kvWidth + kvHead * hd
                    // dP = dA · Vᵀ; dV += Pᵀ · dA.
                    Self.gemm(dA, lda: qWidth, false, v, ldb: kvWidth, true, ds, ldc: length, m: length, n: length, k: hd, beta: 0)
                    Self.gemm(p, lda: length, true, dA, ldb: qWidth, false, dv + start * kvWidth + kvHead * hd, ldc: kvWidth,
                              m: length, n: hd, k: length, beta: 1)
                    // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale.
                    for i in 0..<length {
                        BackwardKernels.softmax(probabilities: p + i * length, gradient: ds + i * length, count: length, factor: scale)
                    }
                    // dQ = dS · K; dK += dSᵀ · Q.
                    Self.gemm(ds, lda: length, false, k, ldb: kvWidth, false, dq + start * qWidth + head * hd, ldc: qWidth,
                              m: length, n: hd, k: length, beta: 0)
                    Self.gemm(ds, lda: length, true, q, ldb: qWidth, false, dk + start * kvWidth + kvHead * hd, ldc: kvWidth,
                              m: length, n: hd, k: length, beta: 1)
                }
            }
        }
    }

    /// One single-threaded BLAS product `c = beta·c + op(a)·op(b)` (attention of one sequence and head).
    private static func gemm(_ a: UnsafePointer<Float>, lda: Int, _ transposeA: Bool, _ b: UnsafePointer<Float>, ldb: Int,
                             _ transposeB: Bool, _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, beta: Float) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
