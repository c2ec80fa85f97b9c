import CEmbeddingGemmaKernels
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// EmbeddingGemma: text in, normalised embedding vectors out, with an API shaped like
/// sentence-transformers' `SentenceTransformer`.
///
/// ```swift
/// let model = try EmbeddingModel()                       // the fetched model, or $EMBEDDINGGEMMA_MODEL
/// let query = try model.encodeQuery("Which planet is known as the Red Planet?")
/// let docs = try model.encodeDocument(["Mars, known for its reddish appearance, ..."])
/// let scores = try model.similarity([query], docs)
/// ```
///
/// A model is immutable once loaded and safe to share between threads and tasks.
public final class EmbeddingModel: Sendable {
    /// Matryoshka sizes the model was trained for.
    public static let supportedDimensions = [768, 512, 256, 128]

    /// The model folder with its configuration and prompts.
    public let folder: ModelFolder
    /// The tokenizer.
    public let tokenizer: GemmaTokenizer
    let encoder: GemmaEncoder
    let head: EmbeddingHead
    /// The GGUF file the model was read from, if any.
    let ggufSource: GGUFFile?

    /// How the weights are stored: `f32` for the exact path, else the quantization in use
    /// (`mixed` when matrices use different encodings).
    public let quantization: QuantizationType

    /// Loads a model.
    /// - Parameters:
    ///   - path: a sentence-transformers folder, a GGUF file of the `gemma-embedding` architecture
    ///     (llama.cpp, Ollama, `gemma-embed quantize`), a Hugging Face Hub id present in the local
    ///     Hugging Face cache (`google/embeddinggemma-300m`), or nil for `$EMBEDDINGGEMMA_MODEL`
    ///     and then `~/.cache/embeddinggemma/embeddinggemma-300m`.
    ///   - quantization: re-encode the weights in memory after loading (nil keeps them as stored).
    ///   - allowMissingHead: accept a GGUF file without the Dense head; its vectors are then the
    ///     mean-pooled, L2-normalised hidden state, not EmbeddingGemma embeddings.
    public convenience init(path: String? = nil, quantization: QuantizationType? = nil, allowMissingHead: Bool = false) throws(EmbeddingGemmaError) {
        let resolved = try ModelLocation.resolve(path)
        let base: EmbeddingModel
        if FileManager.default.fileExists(atPath: resolved), !ModelLocation.isFolder(resolved) {
            let gguf = try GGUFModelReader(path: resolved, allowMissingHead: allowMissingHead)
            base = EmbeddingModel(folder: gguf.folder, tokenizer: gguf.tokenizer, encoder: gguf.encoder, head: gguf.head, gguf: gguf.file)
        } else {
            base = try EmbeddingModel(folder: ModelFolder(path: resolved))
        }
        let model = try quantization.map { q throws(EmbeddingGemmaError) in try base.converted(to: q) } ?? base
        // Loading leaves megabytes of freed temporary memory (vocabulary, JSON scan); hand it back.
        eg_release_free_memory()
        self.init(folder: model.folder, tokenizer: model.tokenizer, encoder: model.encoder, head: model.head, gguf: model.ggufSource)
    }

    /// This model with its weights re-encoded as `quantization` says (self when already so).
    /// Quantizing the float32 checkpoint takes a few seconds on two cores.
    /// - Parameters:
    ///   - quantization: the target encoding.
    ///   - importance: input statistics measured on calibration text
    ///     (``importanceMatrix(calibration:)``): Q4_0 / Q8_0 matrices are then quantized by GPTQ, which
    ///     keeps each matrix's outputs rather than its weights closest to float32 (the embedding table
    ///     is rounded to nearest). Takes about 25 s more than without. The blocks stay ordinary
    ///     Q4_0 / Q8_0.
    /// - Throws: ``EmbeddingGemmaError/unsupportedConfiguration(_:)`` when a matrix width is not a
    ///   multiple of the 32-value blocks of Q8_0 / Q4_0, or when `importance` was measured on a
    ///   model of another shape.
    public func converted(to quantization: QuantizationType, importance: ImportanceMatrix? = nil) throws(EmbeddingGemmaError) -> EmbeddingModel {
        guard quantization != self.quantization else { return self }
        if let importance, !importance.fits(encoder: encoder, head: head) {
            throw .unsupportedConfiguration("the importance matrix was measured on a model of another shape")
        }
        try checkCanConvert(to: quantization)
        return EmbeddingModel(folder: folder, tokenizer: tokenizer, encoder: encoder.converted(to: quantization, importance: importance),
                              head: head.converted(to: quantization, importance: importance), gguf: ggufSource)
    }

    /// Number of texts of the built-in synthetic calibration (about 17 000 tokens).
    public static let syntheticCalibrationCount = 128

    /// Checks that this model's matrices can be encoded as `quantization` (what
    /// ``converted(to:importance:)`` checks first), e.g. before a long calibration.
    /// - Throws: ``EmbeddingGemmaError/unsupportedConfiguration(_:)`` when a matrix width is not a
    ///   multiple of the 32-value blocks of Q8_0 / Q4_0.
    public func checkCanConvert(to quantization: QuantizationType) throws(EmbeddingGemmaError) {
        let widths = [encoder.config.hiddenSize, encoder.config.intermediateSize,
                      encoder.config.numAttentionHeads * encoder.config.headDim] + head.dense.map(\.inFeatures)
        for role in [WeightRole.embedding, .attention, .feedForward, .head] {
            let type = quantization.type(for: role)
            if let bad = widths.first(where: { type.rowBytes(elements: $0) == nil }) {
                throw .unsupportedConfiguration("\(quantization.rawValue) stores blocks of \(type.blockSize) values, but this model has rows of \(bad)")
            }
        }
    }

    /// Measures how the inputs of every weight matrix behave by running this model over
    /// `calibration` texts (as they are, no prompt; each truncated to the model's limit), for
    /// ``converted(to:importance:)``. Use the float32 model. Without texts, the built-in
    /// synthetic calibration is used: ``syntheticCalibrationCount`` sequences of pieces drawn
    /// from the model's own vocabulary, so no data is needed. Text like the text to be embedded
    /// does as well or better; use at least 5 000 tokens (with a few hundred the statistics
    /// over-fit and the result is worse than without calibration). About 5 s per 1 000 tokens on
    /// two cores.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` when `calibration` holds no text, and
    ///   the errors of ``tokenize(_:prompt:truncation:)`` (invalid tokens).
    public func importanceMatrix(calibration: [String]? = nil) throws(EmbeddingGemmaError) -> ImportanceMatrix {
        let texts = (calibration ?? SyntheticText.generate(tokenizer: tokenizer, count: Self.syntheticCalibrationCount))
            .filter { !$0.isEmpty }
        guard !texts.isEmpty else { throw .invalidInput("no calibration text: give at least one non-empty text") }
        var inputs: [[Int32]] = []
        inputs.reserveCapacity(texts.count)
        for result in prepareAll(texts.map { EmbeddingRequest(text: $0) }) { inputs.append(try result.get().tokens.ids) }
        let statistics = ActivationStatistics(config: encoder.config, headWidths: head.dense.map(\.inFeatures))
        for pass in passes(inputs.map(\.count)) {
            _ = run(Array(inputs[pass]), statistics: statistics)
        }
        return ImportanceMatrix(statistics)
    }

    init(folder: ModelFolder, tokenizer: GemmaTokenizer, encoder: GemmaEncoder, head: EmbeddingHead, gguf: GGUFFile?) {
        self.folder = folder
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.head = head
        ggufSource = gguf
        quantization = Self.describe(encoder: encoder, head: head)
    }

    /// The quantization type that names the encodings of `encoder` and `head`.
    private static func describe(encoder: GemmaEncoder, head: EmbeddingHead) -> QuantizationType {
        let types = Set([encoder.embedding.type] + encoder.layers.flatMap { $0.matrices.map(\.0.type) } + head.dense.map(\.weight.type))
        if types.count == 1, let only = types.first {
            return QuantizationType.allCases.first { $0 != .mixed && $0.type(for: .feedForward) == only } ?? .mixed
        }
        return .mixed
    }

    /// Writes the model as one GGUF file (llama.cpp's `gemma-embedding` layout, tokenizer and
    /// prompts included) that ``init(path:quantization:allowMissingHead:)`` and llama.cpp load.
    public func writeGGUF(to path: String) throws(EmbeddingGemmaError) {
        try GGUFModelWriter.write(self, quantization: quantization, to: path)
    }

    /// Bytes of all weights as stored (float32 ≈ 1.2 GB, Q8_0 ≈ 330 MB, Q4_0 ≈ 180 MB).
    public var weightBytes: Int {
        encoder.weightBytes + head.dense.reduce(0) { $0 + $1.weight.byteCount + ($1.bias?.count ?? 0) * 4 }
    }

    /// Loads the weights and tokenizer of a validated folder.
    public init(folder: ModelFolder) throws(EmbeddingGemmaError) {
        self.folder = folder
        // The tokenizer (a 33 MB JSON scan) and the weights (mapping, norms, rotary tables) are
        // independent: load them on two threads to halve start-up time.
        let loaded = LoadResults()
        Parallel.forEachChunk(2, grain: 1) { range in
            for part in range {
                if part == 0 {
                    loaded.tokenizer = Result { () throws(EmbeddingGemmaError) in
                        try GemmaTokenizer(contentsOf: folder.path + "/tokenizer.json")
                    }
                } else {
                    loaded.weights = Result { () throws(EmbeddingGemmaError) in
                        let weights = try SafeTensorsFile(path: folder.path + "/model.safetensors")
                        return (try GemmaEncoder(file: weights, config: folder.config), try EmbeddingHead(folder: folder))
                    }
                }
            }
        }
        guard let tokenizerResult = loaded.tokenizer, let weightsResult = loaded.weights else {
            throw .invalidInput("model loading did not complete")
        }
        tokenizer = try tokenizerResult.get()
        (encoder, head) = try weightsResult.get()
        ggufSource = nil
        quantization = Self.describe(encoder: encoder, head: head)
    }

    /// Results of the two loading threads (each written by exactly one thread, read after both finish).
    private final class LoadResults: @unchecked Sendable {
        var tokenizer: Result<GemmaTokenizer, EmbeddingGemmaError>?
        var weights: Result<(GemmaEncoder, EmbeddingHead), EmbeddingGemmaError>?
    }

    /// Threads the encoder uses (`$EMBEDDINGGEMMA_THREADS`, else every online processor).
    public static var threadCount: Int { Parallel.threadCount }

    /// Named prompts of the model.
    public var prompts: [String: String] { folder.prompts }

    /// Width of a full embedding (768).
    public var dimensions: Int { head.outputWidth }

    /// Longest input in tokens, `<bos>` and `<eos>` included (2048).
    public var maxSequenceLength: Int { folder.maxSequenceLength }

    /// The literal prefix `prompt` stands for.
    /// - Throws: ``EmbeddingGemmaError/unknownPrompt(name:available:)`` for an undefined name.
    public func promptText(_ prompt: Prompt) throws(EmbeddingGemmaError) -> String {
        switch prompt {
        case .none: return ""
        case .literal(let text): return text
        case .named(let name):
            guard let text = folder.prompts[name] else {
                throw .unknownPrompt(name: name, available: folder.prompts.keys.sorted())
            }
            return text
        }
    }

    /// The document prompt with `title` in place of `none` (`title: {title} | text: `).
    public func documentPrompt(title: String?) throws(EmbeddingGemmaError) -> Prompt {
        let base = try promptText(.named("document"))
        guard let title, !title.isEmpty else { return .literal(base) }
        let placeholder = "title: none"
        guard base.hasPrefix(placeholder) else { return .literal(base) }
        return .literal("title: " + title + base.dropFirst(placeholder.count))
    }

    /// Token ids the model sees for `text` under `prompt`: `<bos>`, prompt and text, `<eos>`,
    /// cut to ``maxSequenceLength`` (keeping `<eos>` last) unless `truncation` is `.error`.
    public func tokenize(_ text: String, prompt: Prompt = .none, truncation: TruncationPolicy = .truncate) throws(EmbeddingGemmaError) -> [Int] {
        let prepared = try tokenized(text, prompt: prompt)
        if truncation == .error, prepared.wasTruncated {
            throw .inputTooLong(index: 0, tokens: prepared.originalCount, limit: maxSequenceLength)
        }
        return prepared.ids.map(Int.init)
    }

    /// Embeds `texts`.
    /// - Parameters:
    ///   - prompt: prefix for every text (none by default, as in the reference).
    ///   - dimensions: 768, 512, 256 or 128 (Matryoshka: truncated, then renormalised); nil for 768.
    ///   - truncation: what to do with texts over the token limit.
    /// - Returns: one unit vector per text, in order.
    public func encode(
        _ texts: [String], prompt: Prompt = .none, dimensions: Int? = nil, truncation: TruncationPolicy = .truncate
    ) throws(EmbeddingGemmaError) -> [[Float]] {
        try embed(texts, prompts: Array(repeating: prompt, count: texts.count), dimensions: dimensions, truncation: truncation)
            .map(\.vector)
    }

    /// Embeds one text. See ``encode(_:prompt:dimensions:truncation:)-(String...)``.
    public func encode(
        _ text: String, prompt: Prompt = .none, dimensions: Int? = nil, truncation: TruncationPolicy = .truncate
    ) throws(EmbeddingGemmaError) -> [Float] {
        try encode([text], prompt: prompt, dimensions: dimensions, truncation: truncation)[0]
    }

    /// Embeds search queries with the `query` prompt (`task: search result | query: `).
    public func encodeQuery(_ queries: [String], dimensions: Int? = nil) throws(EmbeddingGemmaError) -> [[Float]] {
        try encode(queries, prompt: .named("query"), dimensions: dimensions)
    }

    /// Embeds one search query with the `query` prompt.
    public func encodeQuery(_ query: String, dimensions: Int? = nil) throws(EmbeddingGemmaError) -> [Float] {
        try encode(query, prompt: .named("query"), dimensions: dimensions)
    }

    /// Embeds documents with the `document` prompt (`title: none | text: `, or the given title).
    public func encodeDocument(_ documents: [String], title: String? = nil, dimensions: Int? = nil) throws(EmbeddingGemmaError) -> [[Float]] {
        try encode(documents, prompt: documentPrompt(title: title), dimensions: dimensions)
    }

    /// Embeds one document with the `document` prompt.
    public func encodeDocument(_ document: String, title: String? = nil, dimensions: Int? = nil) throws(EmbeddingGemmaError) -> [Float] {
        try encode(document, prompt: documentPrompt(title: title), dimensions: dimensions)
    }

    /// Cosine similarity of every `a` with every `b` (`[a.count][b.count]`).
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` when vector lengths differ.
    public func similarity(_ a: [[Float]], _ b: [[Float]]) throws(EmbeddingGemmaError) -> [[Float]] {
        try Self.similarity(a, b)
    }

    /// Cosine similarity of every `a` with every `b` (`[a.count][b.count]`).
    public static func similarity(_ a: [[Float]], _ b: [[Float]]) throws(EmbeddingGemmaError) -> [[Float]] {
        var rows: [[Float]] = []
        for x in a {
            var row: [Float] = []
            for y in b {
                guard x.count == y.count else {
                    throw .invalidInput("cannot compare vectors of \(x.count) and \(y.count) dimensions")
                }
                row.append(VectorMath.cosine(x, y))
            }
            rows.append(row)
        }
        return rows
    }

    /// Encoder and head over one pass of tokenized sequences.
    /// `statistics`, when given, records every product's input (calibration).
    func run(_ sequences: [[Int32]], statistics: ActivationStatistics? = nil) -> [[Float]] {
        let lengths = sequences.map(\.count)
        let hidden = encoder.forward(tokens: sequences.flatMap { $0 }, lengths: lengths, statistics: statistics)
        return head.apply(hidden: hidden, lengths: lengths, statistics: statistics)
    }
}
