#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The request-level API: a caller's batch of requests in, one result per request out; the model
/// tokenizes what is not tokenized yet, checks each request, and packs the valid ones into its own
/// encoder passes of at most ``passTokens`` tokens.
extension EmbeddingModel {
    /// Tokens per encoder pass (the engine's physical batch, as llama.cpp's `n_ubatch`; a caller's
    /// batch of requests, its `n_batch`, is split into passes of this size). It bounds activation
    /// memory for large batches and keeps a pass's activations in the last-level cache between one
    /// step and the next (1024 float32 tokens are 3 MB of hidden state and 4.5 MB for each
    /// feed-forward half; 4096-token passes measured 5–10 % slower on a Zen 5 with 32 MB of L3,
    /// BENCHMARKS.md). Quantized models, chosen to save memory, run smaller passes still; 256
    /// tokens keep their products at full speed. A longer input runs alone in a pass of its own length.
    public var passTokens: Int { encoder.isFloat32 ? 1024 : 256 }

    /// The width a request for `dimensions` gets: nil is the full width; otherwise one of
    /// ``supportedDimensions`` up to the full width, or the full width itself.
    /// - Throws: ``EmbeddingGemmaError/unsupportedDimensions(_:supported:)`` for any other value.
    public func validate(dimensions: Int?) throws(EmbeddingGemmaError) -> Int {
        try Self.validate(dimensions: dimensions, full: self.dimensions)
    }

    /// The width a request for `dimensions` gets from a model whose vectors have `full`
    /// dimensions (768 for EmbeddingGemma), for callers that check before a model is loaded.
    /// - Throws: ``EmbeddingGemmaError/unsupportedDimensions(_:supported:)`` for a width that is
    ///   neither the full one nor one of ``supportedDimensions`` below it.
    public static func validate(dimensions: Int?, full: Int = 768) throws(EmbeddingGemmaError) -> Int {
        guard let dimensions, dimensions != full else { return full }
        let supported = supportedDimensions.filter { $0 <= full }
        guard supported.contains(dimensions) else {
            throw .unsupportedDimensions(dimensions, supported: supported.contains(full) ? supported : [full] + supported)
        }
        return dimensions
    }

    /// `prompt + text` as the model reads it (see ``TokenizedText``), for a request made once and
    /// embedded later (``EmbeddingRequest/init(tokens:dimensions:truncation:)``), or to count tokens.
    /// - Throws: ``EmbeddingGemmaError/unknownPrompt(name:available:)`` for an undefined prompt
    ///   name, ``EmbeddingGemmaError/invalidInput(_:)`` for a text holding a token this text-only
    ///   model has no embedding for.
    public func tokenized(_ text: String, prompt: Prompt = .none) throws(EmbeddingGemmaError) -> TokenizedText {
        var ids = tokenizer.encodeIds(try promptText(prompt) + text)
        let original = ids.count
        let limit = maxSequenceLength
        if ids.count > limit {
            ids.removeSubrange((limit - 1)..<(ids.count - 1))
        }
        try checkVocabulary(ids)
        return TokenizedText(ids: ids, originalCount: original)
    }

    /// Embeds a caller's batch of requests.
    /// - Returns: one result per request, in order: the embedding, or why that request failed
    ///   (``EmbeddingGemmaError/inputTooLong(index:tokens:limit:)`` with the request's position,
    ///   an unsupported width, an unknown prompt, a token the model cannot embed). A failed request
    ///   does not fail the others, nor change their vectors.
    public func embed(_ requests: [EmbeddingRequest]) -> [Result<Embedding, EmbeddingGemmaError>] {
        let prepared = prepareAll(requests)
        var results = prepared.map { $0.map { _ in Embedding(vector: [], tokenCount: 0, originalTokenCount: 0) } }
        let valid = prepared.indices.compactMap { i -> (index: Int, input: Prepared)? in
            guard case .success(let input) = prepared[i] else { return nil }
            return (i, input)
        }
        for range in passes(valid.map(\.input.tokens.count)) {
            let pass = valid[range]
            for ((index, input), vector) in zip(pass, run(pass.map(\.input.tokens.ids))) {
                let cut = input.width == vector.count ? vector : VectorMath.normalized(Array(vector.prefix(input.width)))
                results[index] = .success(Embedding(vector: cut, tokenCount: input.tokens.count, originalTokenCount: input.tokens.originalCount))
            }
        }
        return results
    }

    /// Embeds `texts`, each with its own prompt, and reports token counts and truncation.
    /// - Throws: the first failing text's error (see ``embed(_:)-(([EmbeddingRequest]))``).
    public func embed(
        _ texts: [String], prompts: [Prompt], dimensions: Int? = nil, truncation: TruncationPolicy = .truncate
    ) throws(EmbeddingGemmaError) -> [Embedding] {
        guard texts.count == prompts.count else {
            throw .invalidInput("\(texts.count) texts but \(prompts.count) prompts")
        }
        _ = try validate(dimensions: dimensions)
        let requests = zip(texts, prompts).map { EmbeddingRequest(text: $0, prompt: $1, dimensions: dimensions, truncation: truncation) }
        var embeddings: [Embedding] = []
        embeddings.reserveCapacity(requests.count)
        for result in embed(requests) {
            embeddings.append(try result.get())
        }
        return embeddings
    }

    /// A request ready for a pass: its tokens and output width.
    struct Prepared {
        var tokens: TokenizedText
        var width: Int
    }

    /// Consecutive ranges of inputs of `lengths` tokens packed into encoder passes of at most
    /// ``passTokens`` tokens each (a longer sequence gets a pass of its own).
    func passes(_ lengths: [Int]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < lengths.count {
            var end = start
            var tokens = 0
            while end < lengths.count, end == start || tokens + lengths[end] <= passTokens {
                tokens += lengths[end]
                end += 1
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// Tokenizes the text requests (on all cores when there are many) and checks every request.
    func prepareAll(_ requests: [EmbeddingRequest]) -> [Result<Prepared, EmbeddingGemmaError>] {
        var prepared = [Result<Prepared, EmbeddingGemmaError>](repeating: .failure(.invalidInput("tokenization did not complete")),
                                                               count: requests.count)
        prepared.withUnsafeMutableBufferPointer { slots in
            let output = UncheckedSendable(slots)
            Parallel.forEachChunk(requests.count, grain: 64) { range in
                for i in range {
                    output.value[i] = Result { () throws(EmbeddingGemmaError) in try prepare(requests[i], index: i) }
                }
            }
        }
        return prepared
    }

    /// One request's tokens and width, or why it cannot be embedded.
    private func prepare(_ request: EmbeddingRequest, index: Int) throws(EmbeddingGemmaError) -> Prepared {
        let width = try validate(dimensions: request.dimensions)
        let tokens: TokenizedText
        switch request.input {
        case .text(let text):
            tokens = try tokenized(text, prompt: request.prompt)
        case .tokens(let made):
            try checkVocabulary(made.ids)
            guard made.count <= maxSequenceLength else {
                throw .invalidInput("\(made.count) token ids, more than the model's limit of \(maxSequenceLength): make them with tokenized(_:prompt:)")
            }
            tokens = made
        }
        if request.truncation == .error, tokens.wasTruncated {
            throw .inputTooLong(index: index, tokens: tokens.originalCount, limit: maxSequenceLength)
        }
        return Prepared(tokens: tokens, width: width)
    }

    /// Throws for an id this text-only model has no embedding row for.
    private func checkVocabulary(_ ids: [Int32]) throws(EmbeddingGemmaError) {
        for id in ids where id < 0 || Int(id) >= folder.config.vocabSize {
            let piece = tokenizer.piece(for: Int(id)) ?? "?"
            throw .invalidInput("the text contains the token \(piece) (id \(id)), which this text-only model has no embedding for")
        }
    }
}
