import EmbeddingGemma
import Foundation
import Testing

/// `gemma-embed generate`: bad input in the fast tier, a real generation when the 270M file is present.
@Suite("gemma-embed generate")
struct GenerateCLITests {
    static let generatorPath = TextGenerator.defaultPath

    static var generatorAvailable: Bool {
        ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1" || FileManager.default.fileExists(atPath: generatorPath)
    }

    @Test("a missing file, an embedding GGUF and bad options are clear errors with a non-zero exit")
    func badInput() throws {
        let missing = try CLI.run(["generate", "hi", "--generator", "/nonexistent/model.gguf"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/model.gguf"), "\(missing.stderr)")

        let embedding = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EmbeddingGemmaTests/Fixtures/gguf-py-sample.gguf").path
        let wrongArchitecture = try CLI.run(["generate", "hi", "--generator", embedding])
        #expect(wrongArchitecture.status != 0)
        #expect(wrongArchitecture.stderr.contains("architecture 'gemma-embedding'"), "\(wrongArchitecture.stderr)")

        for options in [["--max-tokens", "0"], ["--temperature", "-1"], ["--top-p", "0"]] {
            let result = try CLI.run(["generate", "hi", "--generator", embedding] + options)
            #expect(result.status != 0, "\(options)")
            #expect(result.stderr.contains(options[0]), "\(options): \(result.stderr)")
        }
    }

    @Test("greedy generation streams the reference's continuation and a summary line", .enabled(if: GenerateCLITests.generatorAvailable))
    func generates() throws {
        let result = try CLI.run(["generate", "The capital of France is", "--max-tokens", "16", "--token-ids", "--generator", Self.generatorPath])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == " the capital of the country of France. It is the largest city in France and")
        // transformers' greedy tokens for this prompt (Fixtures/generation-reference.json).
        #expect(lines.dropFirst().first == "506 5279 529 506 2891 529 7001 236761 1030 563 506 7488 3207 528 7001 532")
        #expect(result.stderr.contains("6 prompt tokens"), "\(result.stderr)")
        #expect(result.stderr.contains("16 generated"), "\(result.stderr)")
        #expect(result.stderr.contains("stop: length"), "\(result.stderr)")

        let sampled = try CLI.run(["generate", "Once upon a time", "--max-tokens", "12", "--temperature", "0.9", "--seed", "5", "--token-ids", "--generator", Self.generatorPath])
        let again = try CLI.run(["generate", "Once upon a time", "--max-tokens", "12", "--temperature", "0.9", "--seed", "5", "--token-ids", "--generator", Self.generatorPath])
        #expect(sampled.status == 0 && again.status == 0)
        #expect(sampled.stdout == again.stdout, "the same seed repeats a sample")
    }
}
