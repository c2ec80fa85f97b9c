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
                    _ = try await batcher.embed(texts.map { EmbeddingRequest(text: $0) }, schedulingTokens: tokens)
                    await completions.add(name)
                }
                // Queue them one after another, in the order given.
                let deadline = ContinuousClock.now + .seconds(900)
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
                                               configuration: .init(batchTokens: 64, maxWait: .zero, shortInputTokens: 16))
        #expect(order.first == "query", "\(order)")
        #expect(Array(order.dropFirst()) == ["doc1", "doc2", "doc3"])
    }

    @Test("a document left out of a pass opens the next one, however many queries wait")
    func documentsNotStarved() async throws {
        let queries = (1...12).map { ("q\($0)", ["abc \($0)"], 2) }
        let order = try await Self.answerOrder([("doc", ["abc def"], 100)] + queries,
                                               configuration: .init(batchTokens: 64, maxWait: .zero, shortInputTokens: 16))
        // Pass 1: five queries (12 tokens each with prompts); pass 2: the document alone; then the rest.
        // (Requests answered by one pass resume concurrently, so only the passes' order is fixed.)
        try #require(order.count == 13, "\(order)")
        #expect(Set(order[0..<5]) == Set((1...5).map { "q\($0)" }), "\(order)")
        #expect(order[5] == "doc", "\(order)")
        #expect(Set(order[6...]) == Set((6...12).map { "q\($0)" }), "\(order)")
    }

    @Test("documents alone go in larger passes; with a query among them, passes keep the query budget")
    func documentPasses() async throws {
        let documents = (1...8).map { ("doc\($0)", ["abc def \($0)"], 50) }
        // 60 tokens each with the per-input allowance: 4 per 256-token document pass, 1 per 64-token pass.
        // The quiet period is far longer than the test, so passes after the query keep the query budget
        // however slowly a loaded machine runs them (with 2 s, a pass that took that long went large).
        let configuration = EmbeddingBatcher.Configuration(batchTokens: 64, maxWait: .zero, shortInputTokens: 16, documentBatchTokens: 256,
                                                           queryQuietPeriod: .seconds(600))
        let alone = try await Self.passes(documents, configuration: configuration)
        #expect(alone == 2, "8 documents in 2 passes of 4")
        let mixed = try await Self.passes(documents + [("query", ["abc"], 2)], configuration: configuration)
        #expect(mixed == 9, "a query waits: the query with nothing else (its 12 tokens leave no room for a 60-token document), then one document per pass")
    }

    /// Passes the batcher runs for `requests` queued while it is held.
    static func passes(_ requests: [(String, [String], Int)], configuration: EmbeddingBatcher.Configuration) async throws -> Int {
        let batcher = EmbeddingBatcher(model: ServerRouteTests.model, configuration: configuration)
        defer { batcher.shutdown() }
        batcher.holdWork()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (_, texts, tokens) in requests {
                let queuedBefore = batcher.currentStatistics.queuedInputs
                group.addTask {
                    _ = try await batcher.embed(texts.map { EmbeddingRequest(text: $0) }, schedulingTokens: tokens)
                }
                let deadline = ContinuousClock.now + .seconds(900)
                while batcher.currentStatistics.queuedInputs == queuedBefore, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            batcher.resumeWork()
            try await group.waitForAll()
        }
        return batcher.currentStatistics.passes
    }
}
