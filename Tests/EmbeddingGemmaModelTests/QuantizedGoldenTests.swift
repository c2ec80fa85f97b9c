import Foundation
import Testing
@testable import EmbeddingGemma

@Suite("Quantized models against the reference", .enabled(if: Golden.available, "model or ../shared/golden missing"), .serialized)
struct QuantizedGoldenTests {
    /// How a test model was quantized from the float32 checkpoint.
    enum Variant: String, CustomStringConvertible, CaseIterable {
        /// Q8_0 rounded to nearest (what `--quantization q8_0` does at load).
        case q8_0
        /// Q4_0 by GPTQ with the built-in synthetic calibration (what `gemma-embed quantize` does).
        case q4_0
        /// The mixed recipe, calibrated like Q4_0.
        case mixed
        /// Q4_0 rounded to nearest: ggml's own Q4_0 (`--quantization q4_0` at load, `quantize --no-calibration`).
        case q4_0Nearest = "q4_0 nearest"
        /// bf16 weights (`--quantization bf16`); on an AVX512-BF16 CPU the products run in bf16 too.
        case bf16

        var description: String { rawValue }
        var type: QuantizationType {
            switch self {
            case .q8_0: return .q8_0
            case .q4_0, .q4_0Nearest: return .q4_0
            case .mixed: return .mixed
            case .bf16: return .bf16
            }
        }
    }

    /// The importance matrix of the built-in synthetic calibration, measured once.
    static let importance = Result { () throws(EmbeddingGemmaError) in try Golden.model.get().importanceMatrix() }

    /// The float32 model re-encoded in memory, once per variant.
    static let quantized: [Variant: Result<EmbeddingModel, EmbeddingGemmaError>] = {
        var models: [Variant: Result<EmbeddingModel, EmbeddingGemmaError>] = [:]
        for variant in Variant.allCases {
            models[variant] = Result { () throws(EmbeddingGemmaError) in
                let calibrated = variant == .q4_0 || variant == .mixed
                return try Golden.model.get().converted(to: variant.type, importance: calibrated ? importance.get() : nil)
            }
        }
        return models
    }()

    static func model(_ variant: Variant) throws -> EmbeddingModel {
        guard let result = quantized[variant] else { throw GoldenError("no \(variant) model") }
        return try result.get()
    }

    /// Measured 2026-11-27: Q8_0 mean 0.99981 / min 0.9973; Q4_0 nearest 0.9598 / 0.862 (llama.cpp's Q4_0
    /// of the same weights scores the same); Q4_0 calibrated (GPTQ, synthetic text) 0.9732 / 0.893.
    @Test("corpus.jsonl: mean and min cosine to the reference (Q8_0 ≥ 0.995 / 0.98, Q4_0 and mixed ≥ 0.97, bf16 ≥ 0.999)",
          arguments: [(Variant.q8_0, 0.995, 0.98), (.q4_0, 0.97, 0.85), (.mixed, 0.97, 0.85), (.q4_0Nearest, 0.955, 0.80),
                      (.bf16, 0.999, 0.99)])
    func corpusFidelity(variant: Variant, mean minimumMean: Double, min minimum: Double) throws {
        let model = try Self.model(variant)
        let type = variant.type
        #expect(model.quantization == type)
        let items = try Golden.jsonLines("corpus.jsonl")
        let texts = try items.map { try #require($0["text"] as? String) }
        let prompts = items.map { Prompt.literal(($0["prompt"] as? String) ?? "") }
        let references = try items.map { try Golden.floats(base64: try #require($0["embedding_b64"] as? String)) }
        let embeddings = try model.embed(texts, prompts: prompts)
        let cosines = zip(embeddings, references).map { Golden.cosine($0.vector, $1) }
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        let worst = cosines.min() ?? 0
        print("corpus \(variant): \(cosines.count) texts, mean cosine \(mean), min \(worst)")
        #expect(mean >= minimumMean, "\(variant): mean cosine \(mean)")
        #expect(worst >= minimum, "\(variant): min cosine \(worst)")
    }

    /// Measured: Q8_0 within 0.5 point everywhere; mixed within 1.5; Q4_0 nearest within 2 points except Turkish (−3.5).
    @Test("bitext mining at 768 dimensions per language: Q8_0 and bf16 within 1 point, Q4_0 and mixed within 3",
          arguments: [(Variant.q8_0, 0.01), (.q4_0, 0.03), (.mixed, 0.03), (.bf16, 0.01)])
    func bitext(variant: Variant, tolerance: Double) throws {
        let model = try Self.model(variant)
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
            #expect(accuracy >= expected - tolerance - 1e-9, "\(variant) \(language): \(accuracy) vs reference \(expected)")
        }
        print("bitext \(variant) @768: " + summary.joined(separator: ", "))
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
