import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaAnswering

/// `gemma-embed generate`: streams a completion from a Gemma 3 text model.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Stream a completion of PROMPT from a Gemma 3 text model (GGUF), on this engine.",
        discussion: """
        The generator is --generator, else $GEMMA_GENERATOR, else the Gemma 3 270M file that \
        scripts/fetch-generator.sh caches. Instruction-tuned files (with a chat template) get the \
        prompt as a user turn unless --raw; base models continue the prompt as written. The text \
        streams to standard output; one summary line (tokens, speed, why it stopped) goes to \
        standard error.
        """
    )

    @Argument(help: "The prompt.")
    var prompt: String

    @OptionGroup var generatorOptions: GeneratorOptions

    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.")
    var maxTokens = 256

    @Option(name: .long, help: "0 for greedy decoding; above 0, sample at this temperature.")
    var temperature = 0.0

    @Option(name: .customLong("top-k"), help: "Sample among the K most likely tokens (0: all).")
    var topK = 64

    @Option(name: .customLong("top-p"), help: "Sample among the most likely tokens holding this much probability.")
    var topP = 0.95

    @Option(name: .long, help: "Seed of the sampler (the same seed repeats a sample).")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Pass the prompt as written, without the chat turn format of instruction-tuned models.")
    var raw = false

    @Flag(name: .customLong("token-ids"), help: "Print the generated token ids (one line, space-separated) after the text.")
    var tokenIDs = false

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be 0 or more") }
        guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let generator = try generatorOptions.load()
        let text = generator.isInstructionTuned && !raw ? generator.chatPrompt(prompt) : prompt
        let options = GenerationOptions(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, seed: seed)
        let result = try generator.generate(text, options: options) { piece in
            OutputWriter.writeAll(Array(piece.text.utf8), to: 1)
            return true
        }
        OutputWriter.writeAll(Array("\n".utf8), to: 1)
        if tokenIDs {
            OutputWriter.writeAll(Array((result.tokens.map(String.init).joined(separator: " ") + "\n").utf8), to: 1)
        }
        if result.droppedPromptTokens > 0 {
            Diagnostics.warn("the prompt was \(result.droppedPromptTokens) tokens too long for the context of \(generator.contextLength); its beginning was dropped")
        }
        Diagnostics.note(result.summary)
    }
}

/// The generator options shared by `generate` and `ask`.
struct GeneratorOptions: ParsableArguments {
    @Option(name: .long, help: "A Gemma 3 text model as GGUF (default: $GEMMA_GENERATOR, else the file scripts/fetch-generator.sh caches); ask also takes a chat server's URL.")
    var generator: String?

    @Option(name: .customLong("generator-model"), help: "With a generator URL: the model name to ask the server for.")
    var generatorModel = "gemma3"

    @Option(name: .long, help: "Tokens of context (prompt and answer) to allocate (with a URL: to fit the prompt in).")
    var context = 2048

    /// The file named by the options, else ``TextGenerator/defaultPath``.
    var path: String { generator ?? TextGenerator.defaultPath }

    /// Whether --generator names a server rather than a file.
    var isURL: Bool {
        let lower = path.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    func load() throws -> TextGenerator {
        guard !isURL else { throw ValidationError("generate runs a GGUF file on this machine; \(path) is a URL (ask can use a server)") }
        return try TextGenerator(path: path, contextLength: context)
    }

    /// The generator of `ask`: a chat server for a URL, else the file on this engine.
    func answerGenerator(tokenizer: GemmaTokenizer) throws -> any AnswerGenerator {
        if isURL {
            let key = ProcessInfo.processInfo.environment["GEMMA_GENERATOR_API_KEY"]
            return try ChatServerGenerator(url: path, model: generatorModel, apiKey: key, contextLength: context, tokenizer: tokenizer)
        }
        do {
            return LocalGenerator(try load())
        } catch let error as EmbeddingGemmaError {
            throw AnswerError.generator(error)
        }
    }
}

extension GenerationResult {
    /// `12 prompt tokens in 0.05 s (240 tok/s); 64 generated in 1.2 s (53 tok/s); stop: length`.
    var summary: String {
        let p = promptDuration / .seconds(1), g = generationDuration / .seconds(1)
        let promptRate = p > 0 ? Double(promptTokens) / p : 0
        let rate = g > 0 && tokens.count > 1 ? Double(tokens.count - 1) / g : 0
        return "\(promptTokens) prompt tokens in \(p.fixed(2)) s (\(promptRate.fixed(0)) tok/s); \(tokens.count) generated in \(g.fixed(2)) s (\(rate.fixed(1)) tok/s); stop: \(stopReason.rawValue)"
    }
}
