import EmbeddingGemma
import Foundation

/// One update of an index: walk, find what changed, read, chunk and tokenize on one thread
/// while the model embeds batches of many files' chunks on the others, and write every batch's
/// finished files in one transaction.
struct Indexer {
    let model: EmbeddingModel
    let store: any IndexStore
    let metadata: IndexMetadata
    let options: IndexOptions
    /// Embeds each batch (the model itself, or a server's batching queue).
    let embed: DocumentEmbedder

    /// What the reading thread hands to the embedding loop.
    private enum Work: Sendable {
        /// A file to embed, with its chunks and their tokens (prompt included, as the model reads them).
        case file(WalkedFile, hash: String, isNew: Bool, chunks: [TextChunk], tokens: [TokenizedText], latin1: Bool)
        /// A file whose bytes did not change: only its time is new.
        case unchanged(WalkedFile, id: Int64)
        /// A file left out; `record` says whether to remember it as such.
        case skipped(WalkedFile, hash: String, reason: SkippedFile.Reason, record: Bool)
    }

    /// A file whose chunks are being embedded.
    private struct Pending {
        var file: WalkedFile
        var hash: String
        var isNew: Bool
        var chunks: [TextChunk]
        var tokens: [TokenizedText]
        var vectors: [[Float]?]
        var failure: String?
        var next = 0
        var done: Bool { vectors.allSatisfy { $0 != nil } || failure != nil }
    }

    func run(_ paths: [String], progress: ((UpdateProgress) -> Void)?, shouldStop: @escaping @Sendable () -> Bool) throws(SearchError) -> UpdateSummary {
        let start = Date()
        var summary = UpdateSummary()
        let walker = FileWalker(maxFileBytes: options.maxFileBytes, excluded: store.ownFiles)
        var found: [WalkedFile] = []
        try walker.walk(paths, found: { found.append($0) }, skipped: { summary.skipped.append($0) })
        summary.filesFound = found.count

        // Removed: indexed under a root, no longer found.
        let stored = try store.files()
        let foundPaths = Set(found.map(\.path))
        var gone: [String] = []
        for root in paths.map(FileWalker.absolute) {
            for path in try store.filePaths(under: root) where !foundPaths.contains(path) { gone.append(path) }
        }
        summary.filesRemoved = try store.remove(paths: Array(Set(gone)))

        let work = found.filter { file in
            guard let old = stored[file.path] else { return true }
            return old.size != file.size || old.modified != file.modified
        }
        summary.filesUnchanged = found.count - work.count
        var state = UpdateProgress(filesFound: found.count, filesToProcess: work.count, filesProcessed: 0, chunksEmbedded: 0,
                                   tokensEmbedded: 0, bytesToProcess: work.reduce(0) { $0 + $1.size }, bytesProcessed: 0, elapsed: 0)
        progress?(state)

        let queue = BlockingQueue<Work>(capacity: 256)
        let reader = Thread { [model, metadata] in
            let extractor = TextExtractor()
            let chunker = Chunker(maxTokens: metadata.chunkTokens, overlapTokens: metadata.overlapTokens)
            for file in work {
                let item = Self.read(file, stored: stored[file.path], extractor: extractor, chunker: chunker, model: model)
                guard queue.put(item) else { break }
            }
            queue.close()
        }
        reader.stackSize = 8 << 20
        reader.start()
        defer { queue.close() }

        var pending: [Pending] = []
        var ready: [IndexedFile] = []
        var touched: [(id: Int64, modified: Int64)] = []
        var unreadable: [String] = []
        var inputDone = false
        while true {
            // Fill the batch: everything already read, and wait for more while the batch is short.
            var batchTokens = pending.reduce(0) { sum, file in sum + file.chunks[file.next...].reduce(0) { $0 + $1.tokenCount + 12 } }
            while !inputDone, batchTokens < options.batchTokens {
                guard let item = queue.take() else {
                    inputDone = true
                    break
                }
                switch item {
                case .file(let file, let hash, let isNew, let chunks, let tokens, let latin1):
                    if latin1 { summary.decodedAsLatin1.append(file.path) }
                    pending.append(Pending(file: file, hash: hash, isNew: isNew, chunks: chunks, tokens: tokens,
                                           vectors: Array(repeating: nil, count: chunks.count)))
                    batchTokens += chunks.reduce(0) { $0 + $1.tokenCount + 12 }
                case .unchanged(let file, let id):
                    touched.append((id, file.modified))
                    summary.filesUnchanged += 1
                    state.filesProcessed += 1
                    state.bytesProcessed += file.size
                case .skipped(let file, let hash, let reason, let record):
                    summary.skipped.append(SkippedFile(path: file.path, reason: reason))
                    if record {
                        ready.append(IndexedFile(path: file.path, size: file.size, modified: file.modified, hash: hash, chunks: [], skipped: reason.description))
                    } else if stored[file.path] != nil {
                        unreadable.append(file.path)  // indexed before, unreadable now: its old chunks go
                    }
                    state.filesProcessed += 1
                    state.bytesProcessed += file.size
                }
            }
            let embedded = try embedBatch(&pending)
            state.chunksEmbedded += embedded.chunks
            state.tokensEmbedded += embedded.tokens
            // Files whose chunks are all embedded are written now, in one transaction.
            while let first = pending.first, first.done {
                pending.removeFirst()
                if let failure = first.failure {
                    let reason = SkippedFile.Reason.embeddingFailed(failure)
                    summary.skipped.append(SkippedFile(path: first.file.path, reason: reason))
                    ready.append(IndexedFile(path: first.file.path, size: first.file.size, modified: first.file.modified,
                                             hash: first.hash, chunks: [], skipped: reason.description))
                } else {
                    let chunks = zip(first.chunks, first.vectors).map { EmbeddedChunk(chunk: $0, vector: $1 ?? []) }
                    ready.append(IndexedFile(path: first.file.path, size: first.file.size, modified: first.file.modified,
                                             hash: first.hash, chunks: chunks, skipped: nil))
                    if first.isNew { summary.filesAdded += 1 } else { summary.filesChanged += 1 }
                    summary.chunksEmbedded += chunks.count
                }
                state.filesProcessed += 1
                state.bytesProcessed += first.file.size
            }
            try store.commit(ready)
            ready.removeAll()
            try store.touch(touched)
            touched.removeAll()
            try store.remove(paths: unreadable)
            unreadable.removeAll()
            state.elapsed = Date().timeIntervalSince(start)
            progress?(state)
            if pending.isEmpty, inputDone { break }
            if shouldStop() {
                summary.interrupted = true
                break
            }
        }
        summary.tokensEmbedded = state.tokensEmbedded
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Embeds up to `options.batchTokens` tokens of the pending files' next chunks in one call.
    /// A chunk the model refuses marks its file as failed; the other files' chunks are kept.
    private func embedBatch(_ pending: inout [Pending]) throws(SearchError) -> (chunks: Int, tokens: Int) {
        var slots: [(file: Int, chunk: Int)] = []
        var tokens = 0
        outer: for f in pending.indices where pending[f].failure == nil {
            for c in pending[f].next..<pending[f].chunks.count {
                if !slots.isEmpty, tokens + pending[f].chunks[c].tokenCount > options.batchTokens { break outer }
                slots.append((f, c))
                tokens += pending[f].chunks[c].tokenCount + 12
            }
        }
        guard !slots.isEmpty else { return (0, 0) }
        let dimensions = metadata.embeddingDimensions(for: model)
        let results = embed(slots.map { EmbeddingRequest(tokens: pending[$0.file].tokens[$0.chunk], dimensions: dimensions) })
        var embeddedTokens = 0
        for (slot, result) in zip(slots, results) {
            switch result {
            case .success(let embedding):
                pending[slot.file].vectors[slot.chunk] = embedding.vector
                pending[slot.file].next = slot.chunk + 1
                embeddedTokens += embedding.tokenCount
            case .failure(let error):
                pending[slot.file].failure = pending[slot.file].failure ?? error.description
            }
        }
        return (slots.count, embeddedTokens)
    }

    /// Reads, hashes, extracts and chunks one file (on the reading thread).
    private static func read(_ file: WalkedFile, stored: StoredFile?, extractor: TextExtractor, chunker: Chunker,
                             model: EmbeddingModel) -> Work {
        let bytes: [UInt8]
        switch TextFile.read(file.path) {
        case .success(let read): bytes = read
        case .failure(let failure):
            return .skipped(file, hash: "", reason: failure.vanished ? .vanished : .unreadable(failure.message), record: false)
        }
        var sha = SHA256()
        sha.update(bytes)
        let hash = sha.finalizeHex()
        if let stored, stored.hash == hash { return .unchanged(file, id: stored.id) }
        switch extractor.extract(path: file.path, bytes: bytes) {
        case .failure(let reason):
            return .skipped(file, hash: hash, reason: reason, record: reason.isLasting)
        case .success(let extracted):
            let tokenizer = model.tokenizer
            let chunks = chunker.chunks(of: extracted.text, kind: extracted.kind, title: extracted.title) {
                tokenizer.encode(String($0), addSpecialTokens: false).count
            }
            guard !chunks.isEmpty else { return .skipped(file, hash: hash, reason: .empty, record: true) }
            var tokens: [TokenizedText] = []
            tokens.reserveCapacity(chunks.count)
            for chunk in chunks {
                let prompt: Prompt
                do {
                    prompt = try model.documentPrompt(title: chunk.promptTitle)
                } catch {
                    return .skipped(file, hash: hash, reason: .embeddingFailed("\(error)"), record: false)
                }
                do {
                    tokens.append(try model.tokenized(chunk.text, prompt: prompt))
                } catch {
                    // A token the model has no embedding for: the file is remembered as not embeddable.
                    return .skipped(file, hash: hash, reason: .embeddingFailed(error.description), record: true)
                }
            }
            return .file(file, hash: hash, isNew: stored == nil, chunks: chunks, tokens: tokens, latin1: extracted.decodedAsLatin1)
        }
    }
}
