import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing
@testable import GemmaSearch

/// The index end to end on the tiny random model: real SQLite files, real folders.
@Suite("Semantic index on a tiny model", .serialized)
struct SemanticIndexTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write())
    }()

    static let options = IndexOptions(chunkTokens: 24, overlapTokens: 4, batchTokens: 96)

    /// A folder of small text files; returns its path.
    static func corpus(_ files: [String: String]) throws -> String {
        let root = ScratchDirectory("corpus").path
        for (name, text) in files {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return root
    }

    static let files: [String: String] = [
        "notes/alpha.txt": "abc abc hi\nhi there abc\n",
        "notes/beta.md": "# Beta\ncabbage words\n\n## Second\nzq-77 marker\n",
        "gamma.txt": String(repeating: "a long line of text with many words in it\n", count: 12),
        "copy1.txt": "identical twins\n",
        "copy2.txt": "identical twins\n",
        "empty.txt": "",
        "blob.txt": "bin\u{0}ary",
        "ünïcødé dir/x.txt": "hi ünï\n",
    ]

    static func newIndex() throws -> (SemanticIndex, root: String) {
        let root = try corpus(files)
        let index = try SemanticIndex(path: ScratchDirectory("index").path + "/index.sqlite", model: model, options: options)
        return (index, root)
    }

    @Test("indexing embeds every text file, leaves out binary and empty ones, and records chunks with line ranges")
    func indexing() throws {
        let (index, root) = try Self.newIndex()
        var reports: [UpdateProgress] = []
        let summary = try index.update([root], options: Self.options, progress: { reports.append($0) })
        #expect(summary.filesFound == 8)
        #expect(summary.filesAdded == 6)
        #expect(Set(summary.skipped.map(\.reason)) == [.empty, .binary])
        #expect(!summary.interrupted)
        let statistics = try index.statistics()
        #expect(statistics.files == 6)
        #expect(statistics.skippedFiles == 2)
        #expect(statistics.chunks > 5, "the long file is split")
        #expect(statistics.chunks == summary.chunksEmbedded)
        #expect(reports.last?.filesProcessed == 8)
        #expect(reports.last?.bytesProcessed == reports.last?.bytesToProcess)
        // Each stored vector is the model's embedding of its chunk with the document prompt.
        let hits = try index.search("cabbage", limit: 20)
        let beta = try #require(hits.first { $0.path.hasSuffix("beta.md") && $0.text.contains("cabbage") })
        #expect(beta.title == "Beta")
        #expect(beta.startLine == 1)
        let expected = try Self.model.encode(beta.text, prompt: Self.model.documentPrompt(title: "Beta"))
        let query = try Self.model.encodeQuery("cabbage")
        #expect(abs(beta.denseScore - VectorMath.cosine(expected, query)) < 1e-5)
    }

    @Test("updates are incremental: unchanged files are skipped, changed ones re-embedded, deleted ones removed")
    func incremental() throws {
        let (index, root) = try Self.newIndex()
        try index.update([root], options: Self.options)
        let before = try index.statistics()

        let again = try index.update([root], options: Self.options)
        #expect(again.filesUnchanged == 8)
        #expect(again.chunksEmbedded == 0)

        // Same bytes, new time: found unchanged by its hash.
        let alpha = root + "/notes/alpha.txt"
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: alpha)
        let touched = try index.update([root], options: Self.options)
        #expect(touched.filesUnchanged == 8)
        #expect(touched.filesChanged == 0)

        try "new words entirely\n".write(toFile: alpha, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: root + "/gamma.txt")
        let changed = try index.update([root], options: Self.options)
        #expect(changed.filesChanged == 1)
        #expect(changed.filesRemoved == 1)
        #expect(changed.chunksEmbedded == 1)
        let after = try index.statistics()
        #expect(after.files == before.files - 1)
        #expect(try index.search("new words entirely", limit: 1).first?.path == alpha)
        #expect(try index.search("a long line", limit: 50).allSatisfy { !$0.path.hasSuffix("gamma.txt") })

        // Removing a folder takes everything under it.
        #expect(try index.remove([root + "/notes"]) == 2)
        #expect(try index.statistics().files == after.files - 2)
    }

    @Test("an update stopped after its first batch continues on the next run, with the same result as one full run")
    func resume() throws {
        let (index, root) = try Self.newIndex()
        let stopped = try index.update([root], options: Self.options, shouldStop: { true })
        #expect(stopped.interrupted)
        let partial = try index.statistics()
        #expect(partial.files < 6)
        let resumed = try index.update([root], options: Self.options)
        #expect(!resumed.interrupted)
        #expect(resumed.filesUnchanged == partial.files + partial.skippedFiles)

        let (clean, cleanRoot) = try Self.newIndex()
        try clean.update([cleanRoot], options: Self.options)
        let full = try clean.statistics()
        let final = try index.statistics()
        #expect(final.files == full.files)
        #expect(final.chunks == full.chunks)
        #expect(final.tokens == full.tokens)
    }

    @Test("exact matches come first; results can be limited to a folder, to one per file, and by score; copies appear once")
    func searching() throws {
        let (index, root) = try Self.newIndex()
        try index.update([root], options: Self.options)
        // Only one chunk holds "zq-77": it gets the whole bonus, no other chunk gets any.
        let all30 = try index.search("zq-77", limit: 30)
        let holders = all30.filter { $0.lexicalScore > 0 }
        #expect(holders.count == 1)
        #expect(holders.first?.lexicalScore == SemanticIndex.exactMatchWeight)
        #expect(holders.first.map { $0.score == $0.denseScore + $0.lexicalScore } == true)
        // (The tiny random model's cosines spread too widely for the default bonus to decide; a
        // large weight puts the literal match first, with its line as the snippet.)
        let exact = try index.search("zq-77", limit: 3, lexicalWeight: 5)
        #expect(exact.first?.path == root + "/notes/beta.md")
        #expect(exact.first?.line == 5, "the snippet line holds the words")
        #expect(exact.first?.snippet == "zq-77 marker")

        let dense = try index.search("zq-77", limit: 3, lexicalWeight: 0)
        #expect(dense.allSatisfy { $0.lexicalScore == 0 && $0.score == $0.denseScore })

        let under = try index.search("words", limit: 10, under: root + "/notes")
        #expect(!under.isEmpty && under.allSatisfy { $0.path.hasPrefix(root + "/notes/") })
        let unicode = try index.search("words", limit: 10, under: root + "/ünïcødé dir")
        #expect(unicode.map(\.path) == [root + "/ünïcødé dir/x.txt"])

        let files = try index.search("text", limit: 10, filesOnly: true)
        #expect(Set(files.map(\.path)).count == files.count)

        let twins = try index.search("identical twins", limit: 10)
        #expect(twins.filter { $0.text == "identical twins\n" }.count == 1)

        let all = try index.search("words", limit: 50)
        let cut = all[all.count / 2].score
        #expect(try index.search("words", limit: 50, minScore: cut).allSatisfy { $0.score >= cut })
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    @Test("bad queries and bad index files are clear errors")
    func errors() throws {
        let (index, root) = try Self.newIndex()
        try index.update([root], options: Self.options)
        #expect(throws: SearchError.emptyQuery) { try index.search("  \n ") }
        #expect(throws: SearchError.invalidLimit(0)) { try index.search("x", limit: 0) }
        #expect(throws: SearchError.pathNotFound(root + "/nope")) { try index.update([root + "/nope"]) }

        let folder = ScratchDirectory("bad").path
        #expect(throws: SearchError.indexNotFound(path: folder + "/none.sqlite")) {
            try SemanticIndex.open(path: folder + "/none.sqlite", model: Self.model)
        }
        let garbage = folder + "/garbage.sqlite"
        try String(repeating: "not a database ", count: 200).write(toFile: garbage, atomically: true, encoding: .utf8)
        do {
            _ = try SemanticIndex.open(path: garbage, model: Self.model)
            Issue.record("a garbage file opened as an index")
        } catch {
            guard case .indexCorrupt(let path, _) = error else { Issue.record("expected indexCorrupt, got \(error)"); return }
            #expect(path == garbage)
            #expect(error.description.contains("rebuild it"))
        }
    }

    @Test("an index built with another model is refused, naming both models, and a rebuild starts over")
    func modelMismatch() throws {
        let (index, root) = try Self.newIndex()
        try index.update([root], options: Self.options)
        var other = index.metadata
        other.modelFingerprint = "0123456789abcdef"
        try index.store.reset(other)
        #expect(throws: SearchError.modelMismatch(path: index.path, stored: other, requested: index.metadata)) {
            try SemanticIndex(path: index.path, model: Self.model, options: Self.options)
        }
        var narrower = index.metadata
        narrower.dimensions = 8
        try index.store.reset(index.metadata)
        #expect(throws: SearchError.modelMismatch(path: index.path, stored: index.metadata, requested: narrower)) {
            try SemanticIndex(path: index.path, model: Self.model, options: IndexOptions(dimensions: 8))
        }
        try index.store.reset(other)
        let rebuilt = try SemanticIndex(path: index.path, model: Self.model, options: Self.options, rebuild: true)
        #expect(try rebuilt.statistics().chunks == 0)
        #expect(rebuilt.metadata.modelFingerprint == Self.model.fingerprint)
    }

    @Test("opening resolves the model: the recorded one, or for a new index the one asked for, loaded before the file is made")
    func opening() throws {
        let folder = ScratchDirectory("opening").path
        let path = folder + "/index.sqlite"
        let failing = IndexModel.recorded(orNew: { () throws(EmbeddingGemmaError) in throw .modelNotFound(path: "/nowhere", hint: "") })
        #expect(throws: SearchError.model(.modelNotFound(path: "/nowhere", hint: ""))) {
            try SemanticIndex(path: path, model: failing)
        }
        #expect(!FileManager.default.fileExists(atPath: path), "no file for an index whose model did not load")
        #expect(throws: SearchError.settingOutOfRange(.batchTokens, value: 0, allowed: 1...Int.max)) {
            try SemanticIndex(path: path, model: .given(Self.model), options: IndexOptions(chunkTokens: 20, batchTokens: 0))
        }
        #expect(!FileManager.default.fileExists(atPath: path), "nor for one with options out of range")
        #expect(throws: SearchError.indexNotFound(path: path)) { try SemanticIndex(path: path, create: false) }

        let created = try SemanticIndex(path: path, model: .recorded(orNew: { Self.model }), options: IndexOptions(chunkTokens: 20))
        #expect(created.metadata.chunkTokens == 20)
        #expect(created.metadata.overlapTokens == 9, "the default overlap stays under half a chunk")
        #expect(created.metadata.dimensions == Self.model.dimensions)
        // Reopened: the recorded model (the failing loader is not called), the recorded chunking.
        let reopened = try SemanticIndex(path: path, model: failing)
        #expect(reopened.model.fingerprint == Self.model.fingerprint)
        #expect(reopened.metadata == created.metadata)
        // A rebuild takes the new model.
        #expect(throws: SearchError.model(.modelNotFound(path: "/nowhere", hint: ""))) {
            try SemanticIndex(path: path, model: failing, rebuild: true)
        }

        // A recorded model that no longer loads is named.
        var moved = created.metadata
        moved.modelPath = folder + "/moved-model"
        try created.store.reset(moved)
        do {
            _ = try SemanticIndex.open(path: path)
            Issue.record("a model that is gone loaded")
        } catch {
            guard case .recordedModelUnavailable(let at, let stored, _) = error else { Issue.record("expected recordedModelUnavailable, got \(error)"); return }
            #expect(at == path && stored == moved)
        }
    }

    @Test("chunking asked for must fit the model and, for an existing index, match its own")
    func chunkingSettings() throws {
        let (index, _) = try Self.newIndex()
        #expect(throws: SearchError.settingMismatch(path: index.path, setting: .chunkTokens, stored: 24, requested: 30)) {
            try SemanticIndex(path: index.path, model: Self.model, options: IndexOptions(chunkTokens: 30))
        }
        #expect(throws: SearchError.settingMismatch(path: index.path, setting: .overlapTokens, stored: 4, requested: 5)) {
            try SemanticIndex(path: index.path, model: Self.model, options: IndexOptions(overlapTokens: 5))
        }
        let limit = Self.model.maxSequenceLength - IndexOptions.promptTokens
        #expect(throws: SearchError.settingOutOfRange(.chunkTokens, value: 4000, allowed: 16...limit)) {
            try SemanticIndex(path: index.path, model: Self.model, options: IndexOptions(chunkTokens: 4000), rebuild: true)
        }
        #expect(throws: SearchError.settingOutOfRange(.overlapTokens, value: 12, allowed: 0...11)) {
            try SemanticIndex(path: index.path, model: Self.model, options: IndexOptions(chunkTokens: 24, overlapTokens: 12), rebuild: true)
        }
        #expect(throws: SearchError.settingOutOfRange(.batchTokens, value: 0, allowed: 1...Int.max)) {
            try SemanticIndex(path: index.path, model: Self.model, options: IndexOptions(chunkTokens: 24, batchTokens: 0), rebuild: true)
        }
    }

    @Test("library messages name no command-line flag or command")
    func messagesSpeakNoFlags() throws {
        let metadata = IndexMetadata(modelPath: "/m", modelFingerprint: "f", quantization: "f32", dimensions: 768, documentPrompt: "p",
                                     chunkTokens: 512, overlapTokens: 48)
        let errors: [SearchError] = [
            .indexNotFound(path: "/i"), .indexCorrupt(path: "/i", reason: "r"), .indexLocked(path: "/i"),
            .modelMismatch(path: "/i", stored: metadata, requested: metadata),
            .recordedModelUnavailable(path: "/i", stored: metadata, error: .invalidInput("x")),
            .settingMismatch(path: "/i", setting: .chunkTokens, stored: 512, requested: 24),
            .settingOutOfRange(.chunkTokens, value: 4000, allowed: 16...1984), .settingOutOfRange(.maxFileBytes, value: 0, allowed: 1...Int.max),
            .emptyQuery, .invalidLimit(0), .pathNotFound("/p"), .storage("s"),
        ]
        for error in errors {
            #expect(!error.description.contains("--") && !error.description.contains("gemma-embed"), "\(error.description)")
        }
    }

    @Test("a hit's JSON form has the result keys, and reads back as the same hit")
    func hitCoding() throws {
        let (index, root) = try Self.newIndex()
        try index.update([root], options: Self.options)
        let hits = try index.search("zq-77", limit: 10, lexicalWeight: 5)
        #expect(hits.contains { $0.title != nil } && hits.contains { $0.line != $0.startLine })
        let encoder = JSONEncoder()
        for hit in hits {
            let data = try encoder.encode(hit)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            var keys: Set<String> = ["path", "line", "start_line", "end_line", "score", "dense", "lexical", "text"]
            if hit.title != nil { keys.insert("title") }
            #expect(Set(object.keys) == keys)
            #expect(try JSONDecoder().decode(SearchHit.self, from: data) == hit)
        }
    }

    @Test("many tasks search one index at once and get the same answers")
    func concurrentSearch() async throws {
        let (index, root) = try Self.newIndex()
        try index.update([root], options: Self.options)
        let expected = try index.search("words about", limit: 5).map(\.path)
        try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { try index.search("words about", limit: 5).map(\.path) }
            }
            for try await paths in group { #expect(paths == expected) }
        }
    }
}
