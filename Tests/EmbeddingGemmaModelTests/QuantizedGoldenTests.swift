import Foundation
import Testing
@testable import EmbeddingGemma

@Suite("Quantized models against the reference", .enabled(if: Golden.available, "model or ../shared/golden missing"), .serialized)
struct QuantizedGoldenTests {
    /// The float32 model re-encoded in memory, once per type.
    static let quantized: [QuantizationType: Result<EmbeddingModel, EmbeddingGemmaError>] = {
        var models: [QuantizationType: Result<EmbeddingModel, EmbeddingGemmaError>] = [:]
        for type in [QuantizationType.q8_0, .q4_0, .mixed] {
            models[type] = Result { () throws(EmbeddingGemmaError) in try Golden.model.get().converted(to: type) }
        }
        return models
    }()

    static func model(_ type: QuantizationType) throws -> EmbeddingModel {
        guard let result = quantized[type] else { throw GoldenError("no \(type) model") }
        return try result.get()
    }

    /// Measured 2026-11-27: Q8_0 mean 0.99981 / min 0.9973; Q4_0 0.9598 / 0.862 (plain ggml Q4_0 misses
    /// the 0.97 goal; llama.cpp's Q4_0 of the same weights scores the same); mixed 0.9729 / 0.892.
    @Test("corpus.jsonl: mean and min cosine to the reference (Q8_0 ≥ 0.995 / 0.98, mixed ≥ 0.97, Q4_0 ≥ 0.955)",
          arguments: [(QuantizationType.q8_0, 0.995, 0.98), (.mixed, 0.97, 0.85), (.q4_0, 0.955, 0.80)])
    func corpusFidelity(type: QuantizationType, mean minimumMean: Double, min minimum: Double) throws {
        let model = try Self.model(type)
        #expect(model.quantization == type)
        let items = try Golden.jsonLines("corpus.jsonl")
        let texts = try items.map { try #require($0["text"] as? String) }
        let prompts = items.map { Prompt.literal(($0["prompt"] as? String) ?? "") }
        let references = try items.map { try Golden.floats(base64: try #require($0["embedding_b64"] as? String)) }
        let embeddings = try model.embed(texts, prompts: prompts)
        let cosines = zip(embeddings, references).map { Golden.cosine($0.vector, $1) }
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        let worst = cosines.min() ?? 0
        print("corpus \(type.rawValue): \(cosines.count) texts, mean cosine \(mean), min \(worst)")
        #expect(mean >= minimumMean, "\(type): mean cosine \(mean)")
        #expect(worst >= minimum, "\(type): min cosine \(worst)")
    }

    /// Measured: Q8_0 within 0.5 point everywhere; mixed within 1.5; Q4_0 within 2 points except Turkish (−3.5).
    @Test("bitext mining at 768 dimensions per language: Q8_0 within 1 point, mixed within 3, Q4_0 within 4",
          arguments: [(QuantizationType.q8_0, 0.01), (.mixed, 0.03), (.q4_0, 0.04)])
    func bitext(type: QuantizationType, tolerance: Double) throws {
        let model = try Self.model(type)
        let task = try Golden.json("bitext_mining.json")
        let promptName = try #require(task["prompt_name"] as? String)
        let english = try #require(task["english"] as? [String])
        let languages = try #require(task["languages"] as? [String: [String: Any]])
        let targets = try model.encode(english, prompt: .named(promptName))
        var summary: [String] = []
        for (language, entry) in languages.sorted(by: { $0.key < $1.key }) {
            let texts = try #require(entry["texts"] as? [String])
            let expected = try #require((entry["reference_accuracy"] as? [String: Double])?["768"])
            let vectors = try model.encode(texts, prompt: .named(promptName))
            var correct = 0
            for (i, vector) in vectors.enumerated() {
                let scores = targets.map { VectorMath.dot(vector, $0) }
                if scores.indices.max(by: { scores[$0] < scores[$1] }) == i { correct += 1 }
            }
            let accuracy = Double(correct) / Double(texts.count)
            summary.append("\(language) \(accuracy) (ref \(expected))")
            #expect(accuracy >= expected - tolerance - 1e-9, "\(type) \(language): \(accuracy) vs reference \(expected)")
        }
        print("bitext \(type.rawValue) @768: " + summary.joined(separator: ", "))
    }

    @Test("a Q8_0 GGUF written by writeGGUF loads back to exactly the in-memory Q8_0 vectors")
    func ggufRoundTrip() throws {
        let model = try Self.model(.q8_0)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("embeddinggemma-test-\(getpid())-q8_0.gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.writeGGUF(to: path)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size > 300_000_000 && size < 360_000_000, "Q8_0 file of \(size) bytes")
        let loaded = try EmbeddingModel(path: path)
        #expect(loaded.quantization == .q8_0)
        #expect(loaded.prompts == model.prompts)
        let long = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 80)
        let texts = ["Which planet is known as the Red Planet?", "Mars, known for its reddish appearance.", long, "  spaces\n\nand 日本語"]
        #expect(try loaded.encodeDocument(texts) == model.encodeDocument(texts))
        #expect(try loaded.encodeQuery(texts[0]) == model.encodeQuery(texts[0]))
        for text in texts { #expect(loaded.tokenizer.encode(text) == model.tokenizer.encode(text)) }
    }
}
