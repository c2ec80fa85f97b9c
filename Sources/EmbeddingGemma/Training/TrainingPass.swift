/// The whole model's forward and backward pass over one batch of token sequences, on the float32
/// master weights: token embeddings (scaled by √hidden), the encoder layers (``LayerArithmetic``),
/// the final norm, mean pooling over every token, the Dense projections and L2 normalisation.
///
/// The forward keeps every layer's input (`hidden` floats per token and layer). It also keeps each
/// layer's ``LayerTape`` when all of them fit `activationBudget`; otherwise the backward pass
/// re-runs one layer's forward from its kept input just before that layer's backward: about a
/// third more arithmetic, for activations of one layer instead of all.
final class TrainingPass: @unchecked Sendable {
    /// RoPE tables of the model (and their inverses for the backward pass), made once per trainer.
    struct Rotary: Sendable {
        let local, global, localInverse, globalInverse: RotaryTable

        init(config: GemmaConfig) {
            local = RotaryTable(base: config.ropeLocalBaseFreq, headDim: config.headDim, positions: config.maxPositionEmbeddings)
            global = RotaryTable(base: config.ropeTheta, headDim: config.headDim, positions: config.maxPositionEmbeddings)
            localInverse = local.inverse
            globalInverse = global.inverse
        }
    }

    let weights: TrainableWeights
    let config: GemmaConfig
    let tokens: [Int32]
    let lengths: [Int]
    private let starts: [Int]
    private let positions: UnsafeMutablePointer<Int32>
    private let rotary: Rotary
    private let factors: [Int: FloatBuffer]
    /// `layerInputs[l]` is the input of layer `l`; the last is the encoder's output before the final norm.
    private var layerInputs: [FloatBuffer] = []
    private var tapes: [LayerTape] = []
    /// The one tape reused layer after layer when tapes are not kept.
    private var spareTape: LayerTape?
    private let keepsTapes: Bool
    private let pool: BufferPool
    private var finalHidden = FloatBuffer(0)
    /// Inputs of each Dense projection, then the last projection's output.
    private var headValues: [FloatBuffer] = []
    private var embeddings: [[Float]] = []

    /// Prepares a pass over `sequences` (each a non-empty list of valid token ids, at most the
    /// model's longest input).
    init(weights: TrainableWeights, rotary: Rotary, sequences: [[Int32]], activationBudget: Int, pool: BufferPool = BufferPool()) {
        self.pool = pool
        self.weights = weights
        config = weights.config
        self.rotary = rotary
        tokens = sequences.flatMap { $0 }
        lengths = sequences.map(\.count)
        var starts: [Int] = []
        var offset = 0
        positions = UnsafeMutablePointer<Int32>.allocate(capacity: max(tokens.count, 1))
        for length in lengths {
            starts.append(offset)
            for p in 0..<length { positions[offset + p] = Int32(p) }
            offset += length
        }
        self.starts = starts
        var factors: [Int: FloatBuffer] = [:]
        let normIndices = weights.layers.flatMap { l in
            [l.inputNorm, l.postAttentionNorm, l.preFeedforwardNorm, l.postFeedforwardNorm, l.queryNorm, l.keyNorm]
        } + [weights.finalNorm]
        for index in normIndices {
            let tensor = weights[index]
            let buffer = FloatBuffer(tensor.count)
            for i in 0..<tensor.count { buffer.pointer[i] = 1 + tensor.values[i] }
            factors[index] = buffer
        }
        self.factors = factors
        keepsTapes = LayerTape.byteCount(rows: tokens.count, lengths: lengths, config: config) * weights.layers.count <= activationBudget
    }

    deinit { positions.deallocate() }

    /// Bytes of activations a pass over sequences of `lengths` keeps (with and without the tapes).
    static func activationBytes(lengths: [Int], config: GemmaConfig, keepingTapes: Bool) -> Int {
        let rows = lengths.reduce(0, +)
        let tape = LayerTape.byteCount(rows: rows, lengths: lengths, config: config)
        let inputs = (config.numHiddenLayers + 2) * rows * config.hiddenSize * 4
        let scratch = 4 * rows * (4 * config.hiddenSize + 2 * config.intermediateSize)
        return inputs + scratch + tape * (keepingTapes ? config.numHiddenLayers : 1)
    }

    private func arithmetic(_ layer: TrainableWeights.Layer) -> LayerArithmetic {
        LayerArithmetic(config: config, weights: weights, layer: layer, factors: factors,
                        rotary: layer.isFullAttention ? rotary.global : rotary.local,
                        inverseRotary: layer.isFullAttention ? rotary.globalInverse : rotary.localInverse,
                        positions: positions, starts: starts, lengths: lengths)
    }

    /// Runs the forward pass and returns one embedding per sequence (normalised when the model normalises).
    func forward() -> [[Float]] {
        let n = tokens.count, h = config.hiddenSize
        let table = weights[weights.embedding].values
        let scale = Float(Double(h).squareRoot())
        let first = pool.take(n * h)
        let tokens = tokens, x0 = first.pointer
        Parallel.forEachChunk(n, grain: 64) { range in
            for t in range {
                let row = table + Int(tokens[t]) * h
                for i in 0..<h { x0[t * h + i] = row[i] * scale }
            }
        }
        layerInputs = [first]
        tapes = []
        for layer in weights.layers {
            let tape = keepsTapes ? LayerTape(rows: n, lengths: lengths, config: config, pool: pool)
                : (spareTape ?? LayerTape(rows: n, lengths: lengths, config: config, pool: pool))
            if !keepsTapes { spareTape = tape }
            let output = pool.take(n * h)
            arithmetic(layer).forward(input: layerInputs[layerInputs.count - 1].pointer, tape: tape, output: output.pointer)
            layerInputs.append(output)
            if keepsTapes { tapes.append(tape) }
        }
        // Final norm, mean pooling, Dense projections, normalisation.
        finalHidden = pool.take(n * h)
        let last = layerInputs[layerInputs.count - 1].pointer, hidden = finalHidden.pointer
        guard let finalNorm = factors[weights.finalNorm]?.pointer else { preconditionFailure("the final norm has no factor") }
        let eps = config.rmsNormEps
        Parallel.forEachChunk(n, grain: 32) { r in
            Kernels.rmsNorm(last + r.lowerBound * h, into: hidden + r.lowerBound * h, rows: r.count, width: h, scale: finalNorm, eps: eps)
        }
        let batch = lengths.count
        let pooled = FloatBuffer(batch * h)
        for (s, length) in lengths.enumerated() {
            let inverse = 1 / Float(max(length, 1))
            for t in starts[s]..<(starts[s] + length) {
                for i in 0..<h { pooled.pointer[s * h + i] += hidden[t * h + i] }
            }
            for i in 0..<h { pooled.pointer[s * h + i] *= inverse }
        }
        headValues = [pooled]
        var width = h
        for dense in weights.dense {
            let weight = weights[dense.weight]
            let out = weight.shape[0]
            let next = FloatBuffer(batch * out)
            Matmul.linear(headValues[headValues.count - 1].pointer, rows: batch, inFeatures: width, weight: weight.values,
                          outFeatures: out, into: next.pointer)
            if let bias = dense.bias.map({ weights[$0].values }) {
                for r in 0..<batch { for i in 0..<out { next.pointer[r * out + i] += bias[i] } }
            }
            headValues.append(next)
            width = out
        }
        let output = headValues[headValues.count - 1]
        embeddings = (0..<batch).map { r in
            let row = Array(UnsafeBufferPointer(start: output.pointer + r * width, count: width))
            return weights.normalizes ? Self.normalized(row) : row
        }
        return embeddings
    }

    /// `row / max(‖row‖, 1e-12)`, as `torch.nn.functional.normalize`.
    private static func normalized(_ row: [Float]) -> [Float] {
        var sum: Float = 0
        for v in row { sum += v * v }
        let norm = max(sum.squareRoot(), 1e-12)
        return row.map { $0 / norm }
    }

    /// Runs the backward pass after ``forward()``: from `dL/d embedding` of every sequence, adds
    /// every tensor's gradient to `gradients`.
    func backward(_ embeddingGradients: [[Float]], into gradients: Gradients) {
        let n = tokens.count, h = config.hiddenSize, batch = lengths.count
        // Normalisation, then the Dense projections in reverse.
        let width = headValues[headValues.count - 1].count / max(batch, 1)
        var dy = FloatBuffer(batch * width)
        for r in 0..<batch {
            let g = embeddingGradients[r]
            if weights.normalizes {
                let raw = headValues[headValues.count - 1].pointer + r * width
                var sum: Float = 0
                for i in 0..<width { sum += raw[i] * raw[i] }
                let norm = max(sum.squareRoot(), 1e-12)
                let e = embeddings[r]
                var dot: Float = 0
                for i in 0..<width { dot += e[i] * g[i] }
                for i in 0..<width { dy.pointer[r * width + i] = (g[i] - e[i] * dot) / norm }
            } else {
                for i in 0..<width { dy.pointer[r * width + i] = g[i] }
            }
        }
        for (index, dense) in weights.dense.enumerated().reversed() {
            let weight = weights[dense.weight]
            let out = weight.shape[0], input = weight.shape[1]
            BackwardKernels.product(dy.pointer, lda: out, transposeA: true, headValues[index].pointer, ldb: input, transposeB: false,
                                    into: gradients[dense.weight], ldc: input, m: out, n: input, k: batch, beta: 1)
            if let bias = dense.bias {
                let target = gradients[bias]
                for r in 0..<batch { for i in 0..<out { target[i] += dy.pointer[r * out + i] } }
            }
            let next = FloatBuffer(batch * input)
            BackwardKernels.product(dy.pointer, lda: out, transposeA: false, weight.values, ldb: input, transposeB: false,
                                    into: next.pointer, ldc: input, m: batch, n: input, k: out, beta: 0)
            dy = next
        }
        // Mean pooling, then the final norm.
        let dx = pool.take(n * h)
        for (s, length) in lengths.enumerated() {
            let inverse = 1 / Float(max(length, 1))
            for t in starts[s]..<(starts[s] + length) {
                for i in 0..<h { dx.pointer[t * h + i] = dy.pointer[s * h + i] * inverse }
            }
        }
        let scratch = BackwardScratch(rows: n, config: config, pool: pool)
        guard let lastLayer = weights.layers.last else { return }
        arithmetic(lastLayer).normBackward(input: layerInputs[layerInputs.count - 1].pointer, norm: weights.finalNorm,
                                           dy: dx.pointer, into: dx.pointer, accumulate: false, rows: n, width: h, gradients: gradients)
        // The layers in reverse, re-running a layer's forward first when its tape was not kept.
        let discard = pool.take(keepsTapes ? 0 : n * h)
        for (index, layer) in weights.layers.enumerated().reversed() {
            let math = arithmetic(layer)
            let tape: LayerTape
            if keepsTapes {
                tape = tapes[index]
            } else {
                tape = spareTape ?? LayerTape(rows: n, lengths: lengths, config: config, pool: pool)
                spareTape = tape
                math.forward(input: layerInputs[index].pointer, tape: tape, output: discard.pointer)
            }
            math.backward(input: layerInputs[index].pointer, tape: tape, dOutput: dx.pointer, dInput: dx.pointer,
                          scratch: scratch, gradients: gradients)
        }
        // Token embeddings: x0 = table[token] · √hidden.
        let scale = Float(Double(h).squareRoot())
        for t in 0..<n {
            gradients.addEmbedding(row: tokens[t], dx.pointer + t * h, factor: scale)
        }
        // Every activation goes back to the pool for the next step.
        var used = layerInputs + [finalHidden, dx, discard] + scratch.buffers
        for tape in tapes { used += tape.buffers }
        if let spareTape { used += spareTape.buffers }
        spareTape = nil
        tapes = []
        layerInputs = []
        finalHidden = FloatBuffer(0)
        pool.give(used)
    }
}
