/// What the inputs of each weight matrix look like on calibration text: per input column the
/// mean squared input (which weights matter most; llama.cpp's "importance matrix") and the
/// mean Gram matrix `E[xᵀx]` (how columns move together). Quantizing with it
/// (``EmbeddingModel/converted(to:importance:)``) runs GPTQ: columns are rounded one after
/// another and each column's error is compensated in the columns still to come, with each
/// block's scale chosen to minimise the importance-weighted error. The files stay ordinary
/// Q4_0 / Q8_0, readable by any GGUF reader.
///
/// Make one with ``EmbeddingModel/importanceMatrix(calibration:)`` from the float32 model.
public struct ImportanceMatrix: Sendable {
    /// The statistics of one matrix input.
    struct Input: Sendable {
        /// Input features.
        let width: Int
        /// Mean squared input per column.
        let diagonal: [Float]
        /// Mean `xᵀx`, row-major `[width × width]`, or nil when only the diagonal was kept.
        let gram: [Float]?
    }

    /// Tokens the encoder layers' statistics were gathered over.
    public let tokenCount: Int
    /// `[layer][site]` (sites as ``ActivationStatistics/Site``).
    let layers: [[Input]]
    /// One per Dense projection of the head.
    let head: [Input]

    init(_ statistics: ActivationStatistics) {
        tokenCount = statistics.tokenCount
        layers = statistics.layerGrams.map { sites in
            sites.map { Self.input(fromSums: $0, count: statistics.tokenCount, isGram: true) }
        }
        head = zip(statistics.headGrams, statistics.headWidths).map { sums, width in
            Self.input(fromSums: sums, count: statistics.sequenceCount, isGram: sums.count == width * width)
        }
    }

    private static func input(fromSums sums: [Float], count: Int, isGram: Bool) -> Input {
        let scale = 1 / Float(max(count, 1))
        if !isGram {
            return Input(width: sums.count, diagonal: sums.map { $0 * scale }, gram: nil)
        }
        let width = Int(Double(sums.count).squareRoot())
        var gram = sums.map { $0 * scale }
        // The statistics hold the upper triangle; mirror it.
        for i in 0..<width {
            for j in 0..<i { gram[i * width + j] = gram[j * width + i] }
        }
        return Input(width: width, diagonal: (0..<width).map { gram[$0 * width + $0] }, gram: gram)
    }

    /// Whether the statistics have the shape of `encoder`'s layers and `head`'s projections.
    func fits(encoder: GemmaEncoder, head: EmbeddingHead) -> Bool {
        let widths = ActivationStatistics.Site.allCases.map { $0.width(in: encoder.config) }
        return layers.count == encoder.layers.count
            && layers.allSatisfy { $0.map(\.width) == widths }
            && self.head.map(\.width) == head.dense.map(\.inFeatures)
    }

    /// The statistics of the input at `site` of `layer`.
    func input(layer: Int, site: ActivationStatistics.Site) -> Input? {
        guard layers.indices.contains(layer) else { return nil }
        return layers[layer][site.rawValue]
    }

    /// The statistics of the input of the head's Dense projection `index`.
    func headInput(_ index: Int) -> Input? {
        head.indices.contains(index) ? head[index] : nil
    }
}
