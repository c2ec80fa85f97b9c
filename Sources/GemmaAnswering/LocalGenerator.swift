import EmbeddingGemma

/// The engine's own Gemma 3 generator, on this device: instruction-tuned files read the message as
/// a user turn, base models as a completion prompt ending in `Answer:`.
public struct LocalGenerator: AnswerGenerator {
    public let generator: TextGenerator

    public init(_ generator: TextGenerator) {
        self.generator = generator
    }

    public var contextLength: Int { generator.contextLength }
    public var tokenizer: GemmaTokenizer { generator.tokenizer }

    public func frame(_ body: String) -> String {
        generator.isInstructionTuned ? generator.chatPrompt(body) : body + "Answer:"
    }

    public func write(_ body: String, options: GenerationOptions, onText: @escaping @Sendable (String) -> Void) async throws(AnswerError) -> AnswerGeneration {
        let result: GenerationResult
        do {
            result = try generator.generate(frame(body), options: options) { piece in
                onText(piece.text)
                return true
            }
        } catch {
            throw .generator(error)
        }
        return AnswerGeneration(text: result.text, promptTokens: result.promptTokens, generatedTokens: result.tokens.count,
                                stopReason: result.stopReason.rawValue, duration: result.promptDuration + result.generationDuration,
                                droppedPromptTokens: result.droppedPromptTokens)
    }
}
