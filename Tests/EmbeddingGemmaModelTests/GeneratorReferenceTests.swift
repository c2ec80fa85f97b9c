@testable import EmbeddingGemma
import Foundation
import Testing

/// The Gemma 3 270M generator (scripts/fetch-generator.sh) against transformers on the same
/// file's dequantized weights (Fixtures/generation-reference.json, written by
/// scripts/generation-reference.py): greedy tokens and first-step logits.
@Suite("Generator against the reference", .enabled(if: GeneratorReference.available))
struct GeneratorReferenceTests {
    @Test("sliding layers keep only their window: the same logits, bit for bit, as a cache of the whole context, past 2 000 positions")
    func slidingWindowCache() throws {
        let generator = try TextGenerator(path: GeneratorReference.path, contextLength: 2048)
        let decoder = generator.decoder
        let window = try #require(generator.decoder.makeCache().capacities.min())
        #expect(window == decoder.config.slidingWindow + GemmaDecoder.maxTokensPerPass, "sliding layers hold the window and one pass")
        // 1 900 prompt tokens (read in passes of 512, so the window moves mid-prompt), then 100 greedy steps.
        let words = (0..<1200).map { ["river", "stone", "Lied", "月", "quatre", "code", "42", "sky"][$0 % 8] + String($0 % 37) }
        let ids = Array(generator.promptTokens(words.joined(separator: " ")).prefix(1900))
        try #require(ids.count == 1900)
        let slim = decoder.makeCache(), whole = decoder.makeCache(fullSliding: true)
        var a: [Float] = [], b: [Float] = []
        for first in stride(from: 0, to: ids.count, by: GemmaDecoder.maxTokensPerPass) {
            let chunk = ids[first..<min(ids.count, first + GemmaDecoder.maxTokensPerPass)].map { Int32($0) }
            a = decoder.forward(chunk, cache: slim)
            b = decoder.forward(chunk, cache: whole)
            #expect(a == b, "after reading \(first + chunk.count) tokens")
        }
        for step in 0..<100 {
            let next = TokenSampler.argmax(a)
            a = decoder.forward([Int32(next)], cache: slim)
            b = decoder.forward([Int32(next)], cache: whole)
            guard a == b else {
                Issue.record("logits differ at generated step \(step)")
                return
            }
        }
        #expect(slim.firstPositions.max() ?? 0 > 0, "the sliding layers dropped old positions")
        #expect(slim.byteCount < whole.byteCount * 6 / 10)
    }

    @Test("prompts tokenize to the reference's ids and the first step's logits agree")
    func firstStep() throws {
        let generator = try GeneratorReference.generator()
        for reference in try GeneratorReference.cases() {
            #expect(generator.promptTokens(reference.prompt) == reference.prompt_ids, "\(reference.prompt)")
            let logits = try generator.logits(after: reference.prompt_ids)
            #expect(TokenSampler.argmax(logits) == reference.top_ids[0], "\(reference.prompt)")
            var worst: Float = 0
            for (id, expected) in zip(reference.top_ids, reference.top_logits) {
                worst = max(worst, abs(logits[id] - Float(expected)))
            }
            // float32 on both sides; the reference sums in another order (and through other kernels).
            #expect(worst < 2e-3, "\(reference.prompt): largest logit difference \(worst)")
            let maximum = logits.max() ?? 0
            let logSumExp = maximum + log(logits.reduce(Float(0)) { $0 + exp($1 - maximum) })
            #expect(abs(logSumExp - Float(reference.logsumexp)) < 2e-3, "\(reference.prompt)")
        }
    }

    @Test("greedy decoding gives the reference's tokens")
    func greedyTokens() throws {
        let generator = try GeneratorReference.generator()
        var identical = 0
        var report: [String] = []
        let cases = try GeneratorReference.cases()
        for reference in cases {
            let result = try generator.generate(reference.prompt, options: GenerationOptions(maxTokens: reference.generated_ids.count))
            // The reference stops at <eos> too, so the sequences compare as they are.
            if result.tokens == reference.generated_ids.filter({ $0 != generator.tokenizer.eosTokenId }) {
                identical += 1
            } else {
                let agree = zip(result.tokens, reference.generated_ids).prefix { $0 == $1 }.count
                report.append("\(reference.prompt): first \(agree) of \(reference.generated_ids.count) agree")
            }
        }
        #expect(identical == cases.count, "\(identical) of \(cases.count) identical; \(report.joined(separator: "; "))")
    }
}

/// The generator file and the reference fixture.
enum GeneratorReference {
    struct Case: Decodable {
        let prompt: String
        let prompt_ids: [Int]
        let generated_ids: [Int]
        let top_ids: [Int]
        let top_logits: [Double]
        let logsumexp: Double
    }

    struct Fixture: Decodable {
        let cases: [Case]
    }

    static let path = TextGenerator.defaultPath

    /// Present, or required by CI (then a missing file fails instead of skipping).
    static let available = ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1" || FileManager.default.fileExists(atPath: path)

    static let loaded: Result<TextGenerator, EmbeddingGemmaError> = Result { () throws(EmbeddingGemmaError) in try TextGenerator(path: path, contextLength: 512) }

    static func generator() throws -> TextGenerator { try loaded.get() }

    static func cases() throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/generation-reference.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases
    }
}
