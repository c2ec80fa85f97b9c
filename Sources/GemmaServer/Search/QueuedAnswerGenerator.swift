import EmbeddingGemma
import GemmaAnswering

/// The server's own Gemma 3 generator as ``GemmaAnswering/AnswerGenerator``: answers go through
/// the same queue as `/api/generate` and the chat routes, one generation at a time.
struct QueuedAnswerGenerator: AnswerGenerator {
    let service: GenerationService

    var contextLength: Int { service.generator.contextLength }
    var tokenizer: GemmaTokenizer { service.generator.tokenizer }

    func frame(_ body: String) -> String {
        LocalGenerator(service.generator).frame(body)
    }

    func write(_ body: String, options: GenerationOptions, onText: @escaping @Sendable (String) -> Void) async throws(AnswerError) -> AnswerGeneration {
        let stream: AsyncThrowingStream<GenerationService.Event, any Error>
        do {
            stream = try service.submit(frame(body), options: options)
        } catch {
            throw .generatorUnavailable(error.message)
        }
        var text = ""
        do {
            for try await event in stream {
                switch event {
                case .text(let piece):
                    text += piece
                    onText(piece)
                case .finished(let result):
                    return AnswerGeneration(text: result.text, promptTokens: result.promptTokens, generatedTokens: result.tokens.count,
                                            stopReason: result.stopReason.rawValue, duration: result.promptDuration + result.generationDuration,
                                            droppedPromptTokens: result.droppedPromptTokens)
                }
            }
        } catch let error as APIError {
            throw .generatorUnavailable(error.message)
        } catch {
            throw .generatorUnavailable("\(error)")
        }
        throw .generatorUnavailable("the generation was cancelled")
    }
}
