import EmbeddingGemma
import Foundation
import GemmaSearch

extension EmbeddingBatcher {
    /// An index update's embedder that goes through this queue: each update batch is cut into
    /// jobs of at most one model pass (``EmbeddingGemma/EmbeddingModel/passTokens``, and at most
    /// ``Configuration/batchTokens``), queued one after another, so a query arriving meanwhile
    /// waits for one pass at most. Blocks the calling (updating) thread until the batch is done; a
    /// full queue is waited out, not failed.
    func documentEmbedder() -> DocumentEmbedder {
        { [self] requests in
            let jobTokens = max(16, min(configuration.batchTokens, model.passTokens))
            var groups: [Range<Int>] = []
            var start = 0, tokens = 0
            for (position, request) in requests.enumerated() {
                let weight = request.estimatedTokens
                if position > start, tokens + weight > jobTokens {
                    groups.append(start..<position)
                    start = position
                    tokens = 0
                }
                tokens += weight
            }
            if start < requests.count { groups.append(start..<requests.count) }
            let results = ResultSlots(count: requests.count)
            let done = DispatchSemaphore(value: 0)
            Task {
                // One job in the queue at a time: queries never queue behind several.
                for range in groups { await self.embedWaiting(Array(requests[range]), into: results, at: range.lowerBound) }
                done.signal()
            }
            done.wait()
            return results.values
        }
    }

    /// Embeds `requests` (retrying while the queue is full); a failing job is retried request by
    /// request, so one unreadable chunk fails alone.
    private func embedWaiting(_ requests: [EmbeddingRequest], into results: ResultSlots, at offset: Int) async {
        while true {
            do {
                let embeddings = try await embed(requests)
                for (position, embedding) in embeddings.enumerated() { results.set(offset + position, .success(embedding)) }
                return
            } catch BatcherError.queueFull {
                try? await Task.sleep(for: .milliseconds(50))
            } catch {
                break
            }
        }
        for (position, request) in requests.enumerated() {
            let answer = model.embed([request])[0]
            results.set(offset + position, answer)
        }
    }
}

/// One result per request, filled from several tasks.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Embedding, EmbeddingGemmaError>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<Embedding, EmbeddingGemmaError>) {
        lock.withLock { slots[index] = result }
    }

    var values: [Result<Embedding, EmbeddingGemmaError>] {
        lock.withLock { slots.map { $0 ?? .failure(.invalidInput("not embedded")) } }
    }
}
