import Foundation
import Testing
@testable import EmbeddingGemma

@Suite("Embeddings against the reference", .serialized, .enabled(if: Golden.available, "model or ../shared/golden missing"))
struct EmbeddingGoldenTests {
    @Test("model card example: similarities within 1e-4 of the reference, 5e-4 of the published row")
    func modelCard() throws {
        let model = try Golden.loadModel()
        let card = try Golden.json("model_card_example.json")
        let query = try #require(card["query"] as? String)
        let documents = try #require(card["documents"] as? [String])
        let reference = try #require(card["reference_similarities"] as? [Double])
        let published = try #require(card["published_similarities"] as? [Double])
        #expect(try model.tokenize(query, prompt: .named("query")) == (card["query_input_ids"] as? [Int]))
        let q = try model.encodeQuery(query)
        let d = try model.encodeDocument(documents)
        let row = try model.similarity([q], d)[0]
        for i in 0..<documents.count {
            #expect(abs(Double(row[i]) - reference[i]) <= 1e-4, "document \(i): \(row[i]) vs reference \(reference[i])")
            #expect(abs(Double(row[i]) - published[i]) <= 5e-4, "document \(i): \(row[i]) vs published \(published[i])")
        }
        let referenceQuery = try Golden.floats(base64: try #require(card["query_embedding_b64"] as? String))
        #expect(Golden.cosine(q, referenceQuery) >= 0.99999)
    }

    @Test("corpus.jsonl: cosine ≥ 0.99999 with the reference for every text, in mixed batches")
    func corpus() throws {
        let model = try Golden.loadModel()
        let items = try Golden.jsonLines("corpus.jsonl")
        let texts = try items.map { try #require($0["text"] as? String) }
        let prompts = items.map { Prompt.literal(($0["prompt"] as? String) ?? "") }
        let references = try items.map { try Golden.floats(base64: try #require($0["embedding_b64"] as? String)) }
        // Shuffle deterministically so that long and short texts share encoder passes.
        var order = Array(texts.indices)
        var state: UInt64 = 42
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            order.swapAt(i, Int(state >> 33) % (i + 1))
        }
        let embeddings = try model.embed(order.map { texts[$0] }, prompts: order.map { prompts[$0] })
        var worst = 1.0
        var longest = 0
        for (position, index) in order.enumerated() {
            let cosine = Golden.cosine(embeddings[position].vector, references[index])
            worst = min(worst, cosine)
            longest = max(longest, embeddings[position].tokenCount)
            #expect(cosine >= 0.99999, "text \(index) (\(embeddings[position].tokenCount) tokens): cosine \(cosine)")
        }
        #expect(longest == 2048, "the corpus should reach the 2048-token limit")
        print("corpus: \(texts.count) texts, worst cosine \(worst)")
    }

    @Test("short texts one at a time (the single-query path) match the reference")
    func shortTextsAlone() throws {
        let model = try Golden.loadModel()
        var checked = 0
        for item in try Golden.jsonLines("corpus.jsonl") {
            guard let ids = item["input_ids"] as? [Int], ids.count <= 16 else { continue }
            let text = try #require(item["text"] as? String)
            let reference = try Golden.floats(base64: try #require(item["embedding_b64"] as? String))
            let vector = try model.encode(text, prompt: .literal((item["prompt"] as? String) ?? ""))
            #expect(Golden.cosine(vector, reference) >= 0.99999, "\(text.prefix(40).debugDescription)")
            checked += 1
        }
        #expect(checked >= 10)
    }

    @Test("a batch gives the same vectors as one text at a time")
    func batchInvariance() throws {
        let model = try Golden.loadModel()
        let items = try Golden.jsonLines("corpus.jsonl")
        // Short texts plus one over the sliding window (> 257 tokens).
        var texts = items.prefix(6).compactMap { $0["text"] as? String }
        if let long = items.first(where: { (($0["input_ids"] as? [Int])?.count ?? 0) > 300 && (($0["input_ids"] as? [Int])?.count ?? 0) < 1200 }),
           let text = long["text"] as? String {
            texts.append(text)
        }
        #expect(texts.count == 7)
        let batched = try model.encode(texts, prompt: .named("document"))
        for (i, text) in texts.enumerated() {
            let single = try model.encode(text, prompt: .named("document"))
            #expect(Golden.cosine(single, batched[i]) >= 0.999999, "text \(i)")
        }
    }

    @Test("forward trace: hidden-state norms after every layer match the reference")
    func forwardTrace() throws {
        let model = try Golden.loadModel()
        let trace = try Golden.json("forward_trace.json")
        let ids = try #require(trace["input_ids"] as? [Int])
        let stages = try #require(trace["stages"] as? [[String: Any]])
        let tokens = ids.map(Int32.init)
        func l2(_ values: [Float]) -> Double { values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        for stage in stages {
            let name = try #require(stage["name"] as? String)
            let expected = try #require(stage["l2"] as? Double)
            let hidden: [Float]
            if name == "embeddings_scaled" {
                hidden = model.encoder.forward(tokens: tokens, lengths: [tokens.count], layerCount: 0, applyFinalNorm: false)
            } else if name.hasPrefix("after_layer_") {
                let layer = try #require(Int(name.dropFirst("after_layer_".count)))
                hidden = model.encoder.forward(tokens: tokens, lengths: [tokens.count], layerCount: layer + 1, applyFinalNorm: false)
            } else if name.hasPrefix("final_norm") {
                hidden = model.encoder.forward(tokens: tokens, lengths: [tokens.count])
            } else {
                continue
            }
            #expect(abs(l2(hidden) - expected) <= 1e-4 * expected, "\(name): l2 \(l2(hidden)) vs \(expected)")
            let first = try #require(stage["first8_token0"] as? [Double])
            for i in 0..<8 {
                #expect(abs(Double(hidden[i]) - first[i]) <= 1e-3 * max(1, abs(first[i])), "\(name)[0][\(i)]")
            }
        }
    }

    @Test("bitext mining: accuracy per language and dimension within one item of the reference")
    func bitextMining() throws {
        let model = try Golden.loadModel()
        let task = try Golden.json("bitext_mining.json")
        let promptName = try #require(task["prompt_name"] as? String)
        let english = try #require(task["english"] as? [String])
        let languages = try #require(task["languages"] as? [String: [String: Any]])
        let englishVectors = try model.encode(english, prompt: .named(promptName))
        for (language, entry) in languages.sorted(by: { $0.key < $1.key }) {
            let texts = try #require(entry["texts"] as? [String])
            let reference = try #require(entry["reference_accuracy"] as? [String: Double])
            let vectors = try model.encode(texts, prompt: .named(promptName))
            for dimensions in EmbeddingModel.supportedDimensions {
                let cut = { (v: [Float]) in VectorMath.normalized(Array(v.prefix(dimensions))) }
                let targets = englishVectors.map(cut)
                var correct = 0
                for (i, vector) in vectors.enumerated() {
                    let query = cut(vector)
                    var best = 0
                    var bestScore = -Float.infinity
                    for (j, target) in targets.enumerated() {
                        let score = VectorMath.dot(query, target)
                        if score > bestScore { bestScore = score; best = j }
                    }
                    if best == i { correct += 1 }
                }
                let expected = try #require(reference[String(dimensions)])
                let accuracy = Double(correct) / Double(texts.count)
                #expect(abs(accuracy - expected) <= 1.0 / Double(texts.count) + 1e-9,
                        "\(language) @\(dimensions): \(accuracy) vs reference \(expected)")
            }
        }
    }

    @Test("Matryoshka dimensions: a prefix of the full vector, renormalised; others rejected")
    func matryoshka() throws {
        let model = try Golden.loadModel()
        let full = try model.encodeQuery("offline semantic search")
        for dimensions in [512, 256, 128] {
            let short = try model.encodeQuery("offline semantic search", dimensions: dimensions)
            #expect(short.count == dimensions)
            #expect(Golden.cosine(short, Array(full.prefix(dimensions))) >= 0.999999)
            #expect(abs(VectorMath.dot(short, short) - 1) < 1e-5)
        }
        #expect(throws: EmbeddingGemmaError.unsupportedDimensions(300, supported: [768, 512, 256, 128])) {
            try model.encodeQuery("x", dimensions: 300)
        }
    }

    @Test("prompts: named, literal, titles; unknown names rejected")
    func prompts() throws {
        let model = try Golden.loadModel()
        #expect(try model.tokenize("x", prompt: .named("query")) == model.tokenizer.encode("task: search result | query: x"))
        #expect(try model.tokenize("x", prompt: model.documentPrompt(title: "Mars")) == model.tokenizer.encode("title: Mars | text: x"))
        #expect(try model.tokenize("x", prompt: model.documentPrompt(title: nil)) == model.tokenizer.encode("title: none | text: x"))
        #expect(throws: EmbeddingGemmaError.self) { try model.encode("x", prompt: .named("nope")) }
    }

    @Test("over-long input: truncated to 2048 by default, rejected with .error")
    func truncation() throws {
        let model = try Golden.loadModel()
        let long = String(repeating: "word ", count: 3000)
        let result = try model.embed([long], prompts: [.none])[0]
        #expect(result.tokenCount == 2048)
        #expect(result.originalTokenCount > 2048)
        #expect(result.wasTruncated)
        #expect(throws: EmbeddingGemmaError.inputTooLong(index: 0, tokens: result.originalTokenCount, limit: 2048)) {
            try model.embed([long], prompts: [.none], truncation: .error)
        }
        #expect(throws: EmbeddingGemmaError.self) { try model.encode("an image <image_soft_token> here") }
    }
}
