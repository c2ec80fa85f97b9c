import EmbeddingGemma
import GemmaSearch

/// Answers questions from the index: the best passages for the question are retrieved, written
/// into a message as numbered sources that the generator is told to answer from alone, and the
/// answer streams back with the list of sources. The generator is the engine's own Gemma 3 model
/// on the device (``LocalGenerator``) or a chat server (``ChatServerGenerator``).
///
/// ```swift
/// let answerer = GroundedAnswerer(index: try SemanticIndex.open(path: "index.sqlite"),
///                                 generator: LocalGenerator(try TextGenerator(path: "gemma-3-270m-q4_k_m.gguf")))
/// let answer = try await answerer.answer("How do I renew the certificate?") { print($0, terminator: "") }
/// for source in answer.sources { print("[\(source.number)] \(source.path):\(source.line)") }
/// ```
public struct GroundedAnswerer: Sendable {
    /// Where passages come from.
    public let index: SemanticIndex
    /// What writes the answer.
    public let generator: any AnswerGenerator

    /// Where an answer ends at the latest: a new question in the prompt's pattern.
    static let nextQuestion = "\nQuestion:"

    public init(index: SemanticIndex, generator: any AnswerGenerator) {
        self.index = index
        self.generator = generator
    }

    /// Retrieves up to `sources` passages for `question` (under `under` when given), builds the
    /// grounded message and generates the answer, calling `onText` with each new piece of text.
    /// - Throws: ``AnswerError/noSources(indexPath:)`` when nothing is found to answer from,
    ///   ``AnswerError/search(_:)`` when retrieval fails, the generator's errors otherwise.
    public func answer(_ question: String, sources: Int = 4, under: String? = nil, options: GenerationOptions = GenerationOptions(maxTokens: 256),
                       onText: @escaping @Sendable (String) -> Void = { _ in }) async throws(AnswerError) -> GroundedAnswer {
        let hits: [SearchHit]
        do {
            hits = try index.search(question, limit: sources, under: under)
        } catch {
            throw .search(error)
        }
        return try await answer(question, from: hits, options: options, onText: onText)
    }

    /// Answers `question` from passages already retrieved (by a caller that searched itself,
    /// such as a server embedding queries through its queue), calling `onSources` with the
    /// numbered sources before the answer's first piece.
    /// - Throws: ``AnswerError/noSources(indexPath:)`` when `hits` is empty, the generator's errors otherwise.
    public func answer(_ question: String, from hits: [SearchHit], options: GenerationOptions = GenerationOptions(maxTokens: 256),
                       onSources: @Sendable ([AnswerSource]) -> Void = { _ in },
                       onText: @escaping @Sendable (String) -> Void = { _ in }) async throws(AnswerError) -> GroundedAnswer {
        guard !hits.isEmpty else { throw .noSources(indexPath: index.path) }
        let prompt = GroundedPrompt(question: question, hits: hits, generator: generator, answerTokens: options.maxTokens)
        onSources(prompt.sources)
        // Small models that have answered go on to invent the next "Question:" of the prompt's pattern.
        var options = options
        if !options.stopSequences.contains(Self.nextQuestion) { options.stopSequences.append(Self.nextQuestion) }
        let generation = try await generator.write(prompt.body, options: options, onText: onText)
        return GroundedAnswer(text: String(generation.text.trimmingWhitespace()), sources: prompt.sources, prompt: generator.frame(prompt.body),
                              generation: generation)
    }
}

/// An answer and the passages it was written from.
public struct GroundedAnswer: Sendable {
    /// The generated answer (surrounding white space removed).
    public let text: String
    /// The sources the prompt numbered, best first.
    public let sources: [AnswerSource]
    /// The prompt the generator read (for a chat server: the message in Gemma's turn format).
    public let prompt: String
    /// Token counts, timing and why generation stopped.
    public let generation: AnswerGeneration
}

/// One numbered source of an answer.
public struct AnswerSource: Sendable, Hashable, Codable {
    /// Its number in the prompt (`[1]`, `[2]`, …).
    public let number: Int
    /// The file.
    public let path: String
    /// The line the passage is best represented by.
    public let line: Int
    public let startLine: Int
    public let endLine: Int
    /// The search score.
    public let score: Float
    /// The chunk's title, if any.
    public let title: String?
    /// Whether the passage was shortened to fit the generator's context.
    public let truncated: Bool
}
