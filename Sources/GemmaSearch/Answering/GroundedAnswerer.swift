import EmbeddingGemma

/// Answers questions from the index on the device: the best passages for the question are
/// retrieved, written into a prompt as numbered sources that the generator is told to answer
/// from alone, and the answer streams back with the list of sources.
///
/// ```swift
/// let answerer = GroundedAnswerer(index: try SemanticIndex.open(path: "index.sqlite"),
///                                 generator: try TextGenerator(path: "gemma-3-270m-q4_k_m.gguf"))
/// let answer = try answerer.answer("How do I renew the certificate?") { print($0, terminator: ""); return true }
/// for source in answer.sources { print("[\(source.number)] \(source.path):\(source.line)") }
/// ```
public struct GroundedAnswerer: Sendable {
    /// Where passages come from.
    public let index: SemanticIndex
    /// What writes the answer.
    public let generator: TextGenerator

    public init(index: SemanticIndex, generator: TextGenerator) {
        self.index = index
        self.generator = generator
    }

    /// Retrieves up to `sources` passages for `question` (under `under` when given), builds the
    /// grounded prompt and generates the answer, calling `onText` with each new piece of text.
    /// - Throws: ``SearchError/noSources(path:)`` when nothing is found to answer from, search and
    ///   generator errors otherwise.
    public func answer(_ question: String, sources: Int = 4, under: String? = nil, options: GenerationOptions = GenerationOptions(maxTokens: 256),
                       onText: (String) -> Bool = { _ in true }) throws(SearchError) -> GroundedAnswer {
        let hits = try index.search(question, limit: sources, under: under)
        guard !hits.isEmpty else { throw .noSources(path: index.path) }
        let prompt = GroundedPrompt(question: question, hits: hits, generator: generator, answerTokens: options.maxTokens)
        let result: GenerationResult
        do {
            result = try generator.generate(prompt.text, options: options) { piece in onText(piece.text) }
        } catch {
            throw .generator(error)
        }
        return GroundedAnswer(text: result.text.trimmingWhitespace, sources: prompt.sources, prompt: prompt.text, generation: result)
    }
}

/// An answer and the passages it was written from.
public struct GroundedAnswer: Sendable {
    /// The generated answer (surrounding white space removed).
    public let text: String
    /// The sources the prompt numbered, best first.
    public let sources: [AnswerSource]
    /// The prompt the generator read.
    public let prompt: String
    /// Token counts, timings and why generation stopped.
    public let generation: GenerationResult
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

extension String {
    var trimmingWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
