import EmbeddingGemma

/// What embeds an update's batches of document chunks: one result per request, in order, as
/// ``EmbeddingGemma/EmbeddingModel/embed(_:)-([EmbeddingRequest])`` answers. Called on the updating thread,
/// which it may block until the batch is done.
///
/// ```swift
/// // A server's queue, so that its queries run between the update's batches:
/// try index.update(["~/notes"], embedder: { requests in queue.embedBlocking(requests) })
/// ```
public typealias DocumentEmbedder = @Sendable ([EmbeddingRequest]) -> [Result<Embedding, EmbeddingGemmaError>]
