/// Second moments of the inputs of every weight matrix of a model, gathered while it runs
/// calibration text: for each place a product reads its input, the Gram matrix `Σ xᵀx` over all
/// tokens (`[width × width]`). Its diagonal is llama.cpp's "importance matrix" (which weights
/// meet large inputs); the whole matrix lets GPTQ (``GPTQ``) carry each column's rounding
/// error over to the columns not yet quantized.
///
/// Not thread-safe: one encoder pass at a time records into it.
final class ActivationStatistics {
    /// Where a product's input comes from within a layer.
    enum Site: Int, CaseIterable {
        /// The normalised residual stream: input of the query, key and value projections.
        case attentionInput
        /// The attention output: input of the output projection.
        case attentionOutput
        /// The normalised residual stream before the feed-forward block: input of gate and up.
        case feedForwardInput
        /// `gelu(gate) · up`: input of the down projection.
        case feedForwardHidden

        /// Input features at this site in a model of `config`.
        func width(in config: GemmaConfig) -> Int {
            switch self {
            case .attentionInput, .feedForwardInput: return config.hiddenSize
            case .attentionOutput: return config.numAttentionHeads * config.headDim
            case .feedForwardHidden: return config.intermediateSize
            }
        }
    }

    /// Inputs wider than this keep only their diagonal (a `3072²` Gram matrix of the head's second
    /// projection would cost more to factor than it gains).
    static let maximumGramWidth = 2048

    /// `[layer][site]` Gram matrices `Σ xᵀx`, row-major `[width × width]`, upper triangle only.
    private(set) var layerGrams: [[[Float]]]
    /// Gram matrices (upper triangles) of the head's Dense inputs, or only their diagonals when wider than
    /// ``maximumGramWidth`` (then `width` entries).
    private(set) var headGrams: [[Float]]
    /// Input features of each Dense projection of the head.
    let headWidths: [Int]
    /// Input features of each ``Site``, by raw value.
    private let siteWidths: [Int]
    /// Tokens seen by the encoder layers.
    private(set) var tokenCount = 0
    /// Pooled vectors (sequences) seen by the head.
    private(set) var sequenceCount = 0

    init(config: GemmaConfig, headWidths: [Int]) {
        let siteWidths = Site.allCases.map { $0.width(in: config) }
        self.siteWidths = siteWidths
        layerGrams = (0..<config.numHiddenLayers).map { _ in
            siteWidths.map { [Float](repeating: 0, count: $0 * $0) }
        }
        self.headWidths = headWidths
        headGrams = headWidths.map { width in
            [Float](repeating: 0, count: width <= Self.maximumGramWidth ? width * width : width)
        }
    }

    /// Adds `rows` rows of `input` (`[rows × width]`) read at `site` of `layer`.
    func record(layer: Int, site: Site, input: UnsafePointer<Float>, rows: Int) {
        if site == .attentionInput, layer == 0 { tokenCount += rows }
        let width = siteWidths[site.rawValue]
        layerGrams[layer][site.rawValue].withUnsafeMutableBufferPointer { gram in
            guard let base = gram.baseAddress else { return }
            Matmul.addGram(input, rows: rows, width: width, into: base)
        }
    }

    /// Adds `rows` input rows of the head's Dense projection `index` (`width` = its input features).
    func recordHead(_ index: Int, input: UnsafePointer<Float>, rows: Int, width: Int) {
        if index == 0 { sequenceCount += rows }
        headGrams[index].withUnsafeMutableBufferPointer { gram in
            guard let base = gram.baseAddress else { return }
            if gram.count == width * width {
                Matmul.addGram(input, rows: rows, width: width, into: base)
            } else {
                for r in 0..<rows {
                    for c in 0..<width { base[c] += input[r * width + c] * input[r * width + c] }
                }
            }
        }
    }
}
