import EmbeddingGemma
import Foundation
@testable import GemmaServer
import Testing

/// The order in which the batcher serves queued work: queries first, documents never starved.
@Suite("Batcher scheduling")
struct BatcherSchedulingTests {
    /// Names of requests in the order they were answered.
    actor Completions {
        var order: [String] = []
        func add(_ name: String) { order.append(name) }
    }

    /// Queues `requests` (name, texts, token count) while the worker is held, then lets it run and
    /// returns the order of the answers.
    static func answerOrder(_ requests: [(String, [String], Int)], configuration: EmbeddingBatcher.Configuration) async throws -> [String] {
        let batcher = EmbeddingBatcher(model: ServerRouteTests.model, configuration: configuration)
        defer { batcher.shutdown() }
        batcher.holdWork()
        let completions = Completions()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, texts, tokens) in requests {
                let queuedBefore = batcher.currentStatistics.queuedInputs
                group.addTask {
                    _ = try await batcher.embed(texts, prompts: texts.map { _ in .none }, dimensions: nil, truncate: true, tokens: tokens)
                    await completions.add(name)
                }
                // Queue them one after another, in the order given.
                let deadline = ContinuousClock.now + .seconds(300)
                while batcher.currentStatistics.queuedInputs == queuedBefore, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            batcher.resumeWork()
            try await group.waitForAll()
        }
        return await completions.order
    }

    @Test("a query queued behind documents is answered in the first pass")
    func queriesFirst() async throws {
        let documents = (1...3).map { ("doc\($0)", ["abc def \($0)"], 50) }
        let order = try await Self.answerOrder(documents + [("query", ["abc"], 2)],
                                               configuration: .init(tokensPerPass: 64, maxWait: .zero, shortInputTokens: 16))
        #expect(order.first == "query", "\(order)")
        #expect(Array(order.dropFirst()) == ["doc1", "doc2", "doc3"])
    }

    @Test("a document left out of a pass opens the next one, however many queries wait")
    func documentsNotStarved() async throws {
        let queries = (1...12).map { ("q\($0)", ["abc \($0)"], 2) }
        let order = try await Self.answerOrder([("doc", ["abc def"], 100)] + queries,
                                               configuration: .init(tokensPerPass: 64, maxWait: .zero, shortInputTokens: 16))
        // Pass 1: five queries (12 tokens each with prompts); pass 2: the document alone; then the rest.
        #expect(order == ["q1", "q2", "q3", "q4", "q5", "doc"] + (6...12).map { "q\($0)" }, "\(order)")
    }
}
