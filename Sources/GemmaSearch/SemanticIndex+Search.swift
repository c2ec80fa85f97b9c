import EmbeddingGemma
import Foundation

extension SemanticIndex {
    /// The lexical bonus of a chunk that holds the whole query, word for word, when only that
    /// chunk does: exact hits come first, as a person typing an identifier expects. The bonus
    /// shrinks with the share of chunks that hold it (`ln((N+1)/n) / ln(N+1)`), so a common word
    /// or phrase barely moves the ranking by meaning.
    public static let exactMatchWeight: Float = 0.5

    /// The dense first stage's effort: chunks it looks at closely (at least; 20 per result asked
    /// for). In the SQLite store, the candidates the 1-bit stage hands to the int8 stage.
    static let minimumCandidates = 200

    /// Searches the index.
    /// - Parameters:
    ///   - query: what to look for, in any language the model knows.
    ///   - limit: most results (at least 1).
    ///   - under: only files equal to or below this path.
    ///   - filesOnly: one result per file (its best chunk).
    ///   - minScore: leave out results scoring below this.
    ///   - lexicalWeight: the bonus of a chunk holding the query word for word when no other
    ///     does (``exactMatchWeight``); 0 ranks by meaning alone.
    /// - Returns: results, best first; chunks with the same text appear once.
    /// - Throws: ``SearchError/emptyQuery``, ``SearchError/invalidLimit(_:)``, storage and model errors.
    public func search(_ query: String, limit: Int = 10, under: String? = nil, filesOnly: Bool = false,
                       minScore: Float? = nil, lexicalWeight: Float = SemanticIndex.exactMatchWeight) throws(SearchError) -> [SearchHit] {
        let request = try queryRequest(query)
        let queryVector: [Float]
        switch model.embed([request])[0] {
        case .success(let embedding): queryVector = embedding.vector
        case .failure(let error): throw .model(error)
        }
        return try search(query, vector: queryVector, limit: limit, under: under, filesOnly: filesOnly, minScore: minScore, lexicalWeight: lexicalWeight)
    }

    /// The embedding request of `query` as ``search(_:limit:under:filesOnly:minScore:lexicalWeight:)``
    /// makes it (the query prompt, tokenized once, at the index's width), for callers that embed
    /// queries themselves (a server's batching queue) and then call
    /// ``search(_:vector:limit:under:filesOnly:minScore:lexicalWeight:)``.
    /// - Throws: ``SearchError/emptyQuery``, or the model's error for a text it cannot read.
    public func queryRequest(_ query: String) throws(SearchError) -> EmbeddingRequest {
        guard query.contains(where: { !$0.isWhitespace }) else { throw .emptyQuery }
        do {
            return EmbeddingRequest(tokens: try model.tokenized(query, prompt: .named("query")),
                                    dimensions: metadata.embeddingDimensions(for: model))
        } catch { throw .model(error) }
    }

    /// Searches the index with the query's embedding already made (from ``queryRequest(_:)``):
    /// the same results as ``search(_:limit:under:filesOnly:minScore:lexicalWeight:)``.
    /// - Parameter vector: the query's embedding at the index's width.
    public func search(_ query: String, vector queryVector: [Float], limit: Int = 10, under: String? = nil, filesOnly: Bool = false,
                       minScore: Float? = nil, lexicalWeight: Float = SemanticIndex.exactMatchWeight) throws(SearchError) -> [SearchHit] {
        guard query.contains(where: { !$0.isWhitespace }) else { throw .emptyQuery }
        guard limit >= 1 else { throw .invalidLimit(limit) }
        let width = metadata.embeddingDimensions(for: model) ?? model.dimensions
        guard queryVector.count == width else {
            throw .invalidOption("the query vector has \(queryVector.count) dimensions; the index holds \(width)")
        }
        let spread = filesOnly ? 4 : 1
        // Lexical evidence: chunks holding the query's words one after another.
        let words = Self.words(of: query)
        let phrase = lexicalWeight > 0 ? try store.phraseMatches(words, limit: 200 * spread) : (ids: [], total: 0)

        // The store's approximate first stage: the nearest chunks, and the phrase matches' scores.
        let found = try store.denseCandidates(for: queryVector, limit: max(limit * 4, 40) * spread,
                                              candidates: max(Self.minimumCandidates, limit * 20),
                                              under: under.map(FileWalker.absolute), scoring: phrase.ids)
        guard found.chunkCount > 0 else { return [] }
        var scores: [Int64: (dense: Float, lexical: Float)] = [:]
        for (id, score) in found.nearest { scores[id] = (score, 0) }
        if phrase.total > 0 {
            let n = Float(found.chunkCount)
            let specificity = log((n + 1) / Float(phrase.total)) / log(n + 1)
            let bonus = lexicalWeight * max(0, specificity)
            for id in phrase.ids {
                guard let approximate = found.scored[id] else { continue }
                scores[id] = (scores[id]?.dense ?? approximate, bonus)
            }
        }
        // The best by the approximate scores, ordered by exact cosine with their float32 vectors.
        let shortlist = scores.sorted { ($0.value.dense + $0.value.lexical, $1.key) > ($1.value.dense + $1.value.lexical, $0.key) }
            .prefix(max(limit * 3, 30) * spread)
        let vectors = try store.vectors(shortlist.map(\.key))
        var ranked: [(id: Int64, dense: Float, lexical: Float)] = shortlist.map { entry in
            let id = entry.key
            guard let vector = vectors[id], vector.count == queryVector.count else { return (id, entry.value.dense, entry.value.lexical) }
            let dense = VectorMath.cosine(vector, queryVector)
            return (id, dense, entry.value.lexical)
        }
        ranked.sort { ($0.dense + $0.lexical, $1.id) > ($1.dense + $1.lexical, $0.id) }

        let details = try store.chunks(ranked.map(\.id))
        var hits: [SearchHit] = []
        var seenText = Set<Int64>()
        var seenFiles = Set<String>()
        for entry in ranked {
            guard let (chunk, textHash) = details[entry.id] else { continue }
            let score = entry.dense + entry.lexical
            if let minScore, score < minScore { break }
            guard seenText.insert(textHash).inserted else { continue }
            if filesOnly, !seenFiles.insert(chunk.path).inserted { continue }
            let (line, snippet) = Self.snippet(of: chunk, words: words)
            hits.append(SearchHit(path: chunk.path, line: line, startLine: chunk.startLine, endLine: chunk.endLine, score: score,
                                  denseScore: entry.dense, lexicalScore: entry.lexical, title: chunk.title, text: chunk.text, snippet: snippet))
            if hits.count == limit { break }
        }
        return hits
    }

    /// The query's words: runs of letters and digits, as FTS5's unicode61 tokenizer splits them.
    static func words(of query: String) -> [String] {
        query.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map { $0.lowercased() }
    }

    /// The chunk's line holding the most distinct query words (the first such), else its first
    /// non-blank line; with its number and trimmed text (at most 200 characters).
    static func snippet(of chunk: StoredChunk, words: [String]) -> (line: Int, text: String) {
        let lines = chunk.text.split(separator: "\n", omittingEmptySubsequences: false)
        let meaningful = Set(words.filter { $0.count > 1 || $0.first?.isNumber == true })
        var best = lines.firstIndex(where: { $0.contains(where: { !$0.isWhitespace }) }) ?? 0
        var bestCount = 0
        if !meaningful.isEmpty {
            for (index, line) in lines.enumerated() {
                let lowered = line.lowercased()
                let count = meaningful.reduce(0) { $0 + (lowered.contains($1) ? 1 : 0) }
                if count > bestCount {
                    best = index
                    bestCount = count
                }
            }
        }
        return (chunk.startLine + best, lines.isEmpty ? "" : SearchHit.snippet(lines[best]))
    }
}
