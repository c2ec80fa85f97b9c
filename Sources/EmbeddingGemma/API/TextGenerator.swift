#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Gemma 3 text model (270M, 1B, 4B…) read from a GGUF file in llama.cpp's `gemma3` layout,
/// generating text on the engine's own tokenizer, weight decoders and kernels.
///
/// ```swift
/// let generator = try TextGenerator(path: "gemma-3-270m-q4_k_m.gguf")
/// let result = try generator.generate("The capital of France is", options: .init(maxTokens: 32)) { piece in
///     print(piece.text, terminator: "")
///     return true   // false stops early
/// }
/// ```
public final class TextGenerator: Sendable {
    /// The GGUF architecture name of Gemma 3 text models.
    public static let architecture = "gemma3"

    /// The tokenizer (Gemma's SentencePiece vocabulary from the file).
    public let tokenizer: GemmaTokenizer
    /// Tokens one generation can hold: prompt and answer together.
    public let contextLength: Int
    /// The file's own name for the model (`general.name`), or its file name.
    public let name: String
    /// Whether the file carries a chat template (an instruction-tuned model): prompts should then
    /// use Gemma's turn format (``chatPrompt(_:)``).
    public let isInstructionTuned: Bool
    /// Where the model was read from.
    public let path: String
    let decoder: GemmaDecoder
    /// Ids that end a generation: `<eos>` and `<end_of_turn>`.
    let endTokens: Set<Int>
    /// The generator file used when none is named: `$GEMMA_GENERATOR`, else the Gemma 3 270M file
    /// that scripts/fetch-generator.sh caches (`~/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf`).
    public static var defaultPath: String {
        if let path = ProcessInfo.processInfo.environment["GEMMA_GENERATOR"], !path.isEmpty { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf"
    }

    /// Tokens read per forward pass while reading a prompt (bounds the attention scores).
    static let promptChunk = GemmaDecoder.maxTokensPerPass

    /// Loads a generator.
    /// - Parameters:
    ///   - path: a GGUF file of the `gemma3` architecture.
    ///   - contextLength: tokens one generation can hold (the key/value cache is sized for it);
    ///     at most the model's own context.
    public init(path: String, contextLength: Int = 2048) throws(EmbeddingGemmaError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .modelNotFound(path: path, hint: "run scripts/fetch-generator.sh, or pass a Gemma 3 GGUF file")
        }
        let file = try GGUFFile(path: path)
        let arch = file.metadata["general.architecture"]?.stringValue ?? "(none)"
        guard arch == Self.architecture else {
            let hint = arch == "gemma-embedding" ? " (an embedding model: use it with embed, index or serve)" : ""
            throw .unsupportedConfiguration("\(path) is a GGUF model of architecture '\(arch)'\(hint); the generator runs Gemma 3 text models ('\(Self.architecture)')")
        }
        let backbone = try GGUFBackbone(file: file, architecture: Self.architecture, bidirectional: false)
        guard contextLength >= 16, contextLength <= backbone.config.maxPositionEmbeddings else {
            throw .invalidInput("context length \(contextLength) must be between 16 and the model's \(backbone.config.maxPositionEmbeddings)")
        }
        tokenizer = backbone.tokenizer
        self.contextLength = contextLength
        self.path = path
        name = file.metadata["general.name"]?.stringValue ?? URL(fileURLWithPath: path).lastPathComponent
        isInstructionTuned = file.metadata["tokenizer.chat_template"] != nil
        decoder = GemmaDecoder(backbone: backbone, context: contextLength)
        var ends: Set<Int> = [backbone.tokenizer.eosTokenId]
        let turnEnd = backbone.tokenizer.encode("<end_of_turn>", addSpecialTokens: false)
        if turnEnd.count == 1 { ends.insert(turnEnd[0]) }
        endTokens = ends
        if let first = file.tensors.map(\.range.lowerBound).min() { file.mapping.release(0..<first) }
    }

    /// `message` as one user turn of Gemma's chat format, ready for the model's answer.
    public func chatPrompt(_ message: String) -> String {
        ChatMessage.gemmaPrompt([.user(message)])
    }

    /// The ids the model reads for `prompt`: `<bos>` and the prompt's tokens.
    public func promptTokens(_ prompt: String) -> [Int] {
        [tokenizer.bosTokenId] + tokenizer.encode(prompt, addSpecialTokens: false)
    }

    /// The logits `[vocab]` of the token following `ids` (for checks against a reference).
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` when `ids` is empty, longer than the
    ///   context, or holds an id outside the vocabulary.
    public func logits(after ids: [Int]) throws(EmbeddingGemmaError) -> [Float] {
        try check(ids)
        let cache = decoder.makeCache()
        return read(ids, cache: cache)
    }

    /// Generates a continuation of `prompt`, calling `onToken` with each new piece of text as it
    /// is decided (return false to stop).
    ///
    /// A prompt that leaves no room for `options.maxTokens` in the context loses tokens from its
    /// front (after `<bos>`); ``GenerationResult/droppedPromptTokens`` says how many.
    @discardableResult
    public func generate(_ prompt: String, options: GenerationOptions = GenerationOptions(),
                         onToken: (GeneratedPiece) -> Bool = { _ in true }) throws(EmbeddingGemmaError) -> GenerationResult {
        guard options.maxTokens >= 1 else { throw .invalidInput("maxTokens must be at least 1") }
        guard options.maxTokens < contextLength else {
            throw .invalidInput("maxTokens \(options.maxTokens) leaves no room for the prompt in a context of \(contextLength) tokens")
        }
        var ids = promptTokens(prompt)
        let room = contextLength - options.maxTokens
        var dropped = 0
        if ids.count > room {
            dropped = ids.count - room
            ids = [ids[0]] + ids.dropFirst(1 + dropped)
        }
        let promptCount = ids.count
        let clock = ContinuousClock()
        let started = clock.now
        let cache = decoder.makeCache()
        var logits = read(ids, cache: cache)
        let promptDone = clock.now
        var sampler = TokenSampler(options: options)
        var generated: [Int] = []
        var emitted = ""
        var finalText: String?
        var reason = GenerationResult.StopReason.maxTokens
        let stops = endTokens.union(options.stopTokens)
        let stopSequences = options.stopSequences.filter { !$0.isEmpty }
        while generated.count < options.maxTokens {
            let next = sampler.next(logits)
            if stops.contains(next) {
                reason = .endOfText
                break
            }
            generated.append(next)
            // Text is emitted once it is whole UTF-8 (a character may span tokens), and, with stop
            // sequences, once it cannot be the start of one.
            let text = tokenizer.decode(generated)
            if !text.hasSuffix("\u{FFFD}"), text.count >= emitted.count {
                var visible = text
                var hitStop = false
                if !stopSequences.isEmpty {
                    if let cut = Self.firstStop(in: text, stopSequences) {
                        visible = String(text[..<cut])
                        hitStop = true
                    } else {
                        visible = String(text.dropLast(Self.heldBack(text, stopSequences)))
                    }
                }
                if visible.count > emitted.count {
                    let piece = String(visible.dropFirst(emitted.count))
                    emitted = visible
                    if !onToken(GeneratedPiece(token: next, text: piece)) {
                        reason = .stopped
                        break
                    }
                }
                if hitStop {
                    finalText = visible
                    reason = .endOfText
                    break
                }
            }
            if generated.count == options.maxTokens || cache.count >= contextLength { break }
            logits = decoder.forward([Int32(next)], cache: cache)
        }
        let finished = clock.now
        let text = finalText ?? tokenizer.decode(generated)
        if text.count > emitted.count, reason != .stopped {
            _ = onToken(GeneratedPiece(token: generated.last ?? 0, text: String(text.dropFirst(emitted.count))))
        }
        return GenerationResult(text: text, tokens: generated, promptTokens: promptCount, droppedPromptTokens: dropped,
                                stopReason: reason, promptDuration: started.duration(to: promptDone),
                                generationDuration: promptDone.duration(to: finished))
    }

    /// Where the earliest of `stops` begins in `text`.
    static func firstStop(in text: String, _ stops: [String]) -> String.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            if stops.contains(where: { text[index...].hasPrefix($0) }) { return index }
            index = text.index(after: index)
        }
        return nil
    }

    /// Characters at the end of `text` that could begin one of `stops` (held back until decided).
    static func heldBack(_ text: String, _ stops: [String]) -> Int {
        var held = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, text.count), to: held, by: -1) where text.hasSuffix(stop.prefix(length)) {
                held = length
                break
            }
        }
        return held
    }

    private func check(_ ids: [Int]) throws(EmbeddingGemmaError) {
        guard !ids.isEmpty else { throw .invalidInput("no tokens to read") }
        guard ids.count <= contextLength else { throw .invalidInput("\(ids.count) tokens exceed the context of \(contextLength)") }
        if let bad = ids.first(where: { $0 < 0 || $0 >= decoder.embedding.rows }) {
            throw .invalidInput("token id \(bad) is outside the vocabulary of \(decoder.embedding.rows)")
        }
    }

    /// Reads `ids` into `cache` in chunks and returns the logits after the last one.
    private func read(_ ids: [Int], cache: KVCache) -> [Float] {
        var logits: [Float] = []
        for first in stride(from: 0, to: ids.count, by: Self.promptChunk) {
            let chunk = ids[first..<min(ids.count, first + Self.promptChunk)].map { Int32($0) }
            logits = decoder.forward(chunk, cache: cache)
        }
        return logits
    }
}

/// One step of a generation: the token and the text it completed.
public struct GeneratedPiece: Sendable {
    /// The token id.
    public let token: Int
    /// New text (empty while a character spans several tokens).
    public let text: String
}

/// What a generation produced.
public struct GenerationResult: Sendable {
    /// Why the generation ended.
    public enum StopReason: String, Sendable {
        /// `<eos>`, `<end_of_turn>` or a stop token.
        case endOfText = "end"
        /// `maxTokens` were generated (or the context is full).
        case maxTokens = "length"
        /// The caller's callback returned false.
        case stopped
    }

    /// The generated text.
    public let text: String
    /// The generated ids (stop token excluded).
    public let tokens: [Int]
    /// Tokens of the prompt as read (with `<bos>`).
    public let promptTokens: Int
    /// Tokens cut from the front of a prompt too long for the context.
    public let droppedPromptTokens: Int
    public let stopReason: StopReason
    /// Time to read the prompt.
    public let promptDuration: Duration
    /// Time to generate the tokens after the prompt.
    public let generationDuration: Duration
}
