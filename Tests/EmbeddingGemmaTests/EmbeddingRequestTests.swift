import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

/// The request-level API: one result per request, failures kept to their request, tokens made once.
@Suite("Embedding requests")
struct EmbeddingRequestTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModelTests.folder)
    }()

    @Test("a failing request fails alone and leaves the other vectors bit for bit as without it")
    func failuresStayWithTheirRequest() throws {
        let model = Self.model
        let long = String(repeating: "é", count: 60)  // 122 tokens > 96 positions
        let good = ["abc", "hi there", "abc def ghi", "ok"]
        let requests = [
            EmbeddingRequest(text: good[0]),
            EmbeddingRequest(text: long, truncation: .error),
            EmbeddingRequest(text: good[1], prompt: .named("query")),
            EmbeddingRequest(text: "x", prompt: .named("nope")),
            EmbeddingRequest(text: good[2], dimensions: 768),
            EmbeddingRequest(text: good[3], prompt: .named("document")),
        ]
        let results = model.embed(requests)
        try #require(results.count == requests.count)
        #expect(throws: EmbeddingGemmaError.inputTooLong(index: 1, tokens: 122, limit: TinyModel.maxPositions)) { try results[1].get() }
        #expect(throws: EmbeddingGemmaError.unknownPrompt(name: "nope", available: ["STS", "document", "query"])) { try results[3].get() }
        #expect(throws: EmbeddingGemmaError.unsupportedDimensions(768, supported: [16])) { try results[4].get() }
        // The valid requests alone pack into the same pass, so their vectors are the same bits.
        let alone = model.embed([requests[0], requests[2], requests[5]]).map { try? $0.get() }
        #expect([try results[0].get(), try results[2].get(), try results[5].get()] == alone.compactMap { $0 })
        // And the same as the text API with each prompt.
        let expected = try model.embed([good[0], good[1], good[3]], prompts: [.none, .named("query"), .named("document")])
        #expect(alone.compactMap { $0 } == expected)
    }

    @Test("token ids made once embed to the same bits as the text, and count what the model reads")
    func tokensInput() throws {
        let model = Self.model
        let tokens = try model.tokenized("hi there", prompt: .named("query"))
        #expect(tokens.ids.map(Int.init) == (try model.tokenize("hi there", prompt: .named("query"))))
        #expect(tokens.ids.first == 2 && tokens.ids.last == 1, "<bos> first, <eos> last")
        let fromTokens = try model.embed([EmbeddingRequest(tokens: tokens)])[0].get()
        let fromText = try model.embed([EmbeddingRequest(text: "hi there", prompt: .named("query"))])[0].get()
        #expect(fromTokens == fromText)
        #expect(fromTokens.tokenCount == tokens.count)

        let long = try model.tokenized(String(repeating: "é", count: 60))
        #expect(long.count == TinyModel.maxPositions && long.originalCount == 122 && long.wasTruncated)
        let cut = model.embed([EmbeddingRequest(tokens: long), EmbeddingRequest(tokens: long, truncation: .error)])
        #expect(try cut[0].get().wasTruncated)
        #expect(throws: EmbeddingGemmaError.inputTooLong(index: 1, tokens: 122, limit: TinyModel.maxPositions)) { try cut[1].get() }
    }

    @Test("one width check: nil and the full width pass, Matryoshka sizes up to the full width, nothing else")
    func widths() throws {
        #expect(try EmbeddingModel.validate(dimensions: nil) == 768)
        for width in [768, 512, 256, 128] { #expect(try EmbeddingModel.validate(dimensions: width) == width) }
        #expect(throws: EmbeddingGemmaError.unsupportedDimensions(300, supported: [768, 512, 256, 128])) {
            try EmbeddingModel.validate(dimensions: 300)
        }
        #expect(throws: EmbeddingGemmaError.unsupportedDimensions(768, supported: [512, 256, 128])) {
            try EmbeddingModel.validate(dimensions: 768, full: 512)
        }
        #expect(try Self.model.validate(dimensions: nil) == 16)
        #expect(try Self.model.validate(dimensions: 16) == 16)
        #expect(throws: EmbeddingGemmaError.unsupportedDimensions(128, supported: [16])) { try Self.model.validate(dimensions: 128) }
    }

    @Test("a caller's batch is split into passes of at most passTokens tokens, a longer input alone")
    func passPacking() {
        let model = Self.model
        let budget = model.passTokens
        #expect(model.passes([]) == [])
        #expect(model.passes([budget / 2, budget / 2, 1]) == [0..<2, 2..<3])
        #expect(model.passes([budget + 5, 3, 4]) == [0..<1, 1..<3])
        #expect(model.passes([3, budget + 5]) == [0..<1, 1..<2])
    }
}
