import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// `gemma-embed ask` end to end on the real embedding model and the Gemma 3 270M generator, over
/// part of ../shared/search-eval (release tier).
@Suite("gemma-embed ask", .serialized, .enabled(if: RealModel.available && GenerateCLITests.generatorAvailable))
struct AskCLITests {
    static let searchEval = URL(fileURLWithPath: RealModel.golden).deletingLastPathComponent().appendingPathComponent("search-eval/docs").path

    /// 40 documents of search-eval indexed into a scratch folder.
    static let corpus: Result<(docs: String, index: String), any Error> = Result {
        let root = ScratchDirectory("ask").path
        let docs = root + "/docs"
        try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: searchEval).sorted().prefix(40)
        for name in names { try FileManager.default.copyItem(atPath: searchEval + "/" + name, toPath: docs + "/" + name) }
        let index = root + "/index.sqlite"
        let built = try CLI.run(["index", docs, "--index", index])
        guard built.status == 0 else { throw CLIFailure(message: built.stderr) }
        return (docs, index)
    }

    struct CLIFailure: Error { let message: String }

    @Test("the answer streams, then the sources are the index's top hits in order")
    func answersWithSources() throws {
        let (docs, index) = try Self.corpus.get()
        let question = "Which library parses CSV files in Haskell?"
        let search = try CLI.run(["search", question, "--index", index, "-k", "3", "--json"])
        #expect(search.status == 0, "\(search.stderr)")
        let hits = try search.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let expected = try hits.enumerated().map { n, hit in "[\(n + 1)] \(try #require(hit["path"] as? String)):\(try #require(hit["line"] as? Int))" }
        #expect(expected.count == 3)

        let ask = try CLI.run(["ask", question, "--index", index, "-k", "3", "--max-tokens", "24", "--generator", GenerateCLITests.generatorPath])
        #expect(ask.status == 0, "\(ask.stderr)")
        let parts = ask.stdout.components(separatedBy: "\n\nSources:\n")
        try #require(parts.count == 2, "\(ask.stdout)")
        #expect(parts[0].contains { $0.isLetter }, "an answer was written: \(parts[0])")
        let listed = parts[1].split(separator: "\n").map { $0.replacingOccurrences(of: " (shortened)", with: "") }
        #expect(listed == expected)
        #expect(ask.stderr.contains("generated"), "\(ask.stderr)")

        let json = try CLI.run(["ask", question, "--index", index, "-k", "3", "--max-tokens", "24", "--json", "--generator", GenerateCLITests.generatorPath])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let sources = try #require(object["sources"] as? [[String: Any]])
        #expect(sources.map { "[\($0["n"] as? Int ?? 0)] \($0["path"] as? String ?? ""):\($0["line"] as? Int ?? 0)" } == expected)
        // Greedy decoding: the JSON answer is the streamed one.
        #expect((object["answer"] as? String) == parts[0].trimmingCharacters(in: .whitespacesAndNewlines))
        _ = docs
    }

    @Test("no index, an empty index and an empty question are clear errors")
    func errors() throws {
        let root = ScratchDirectory("ask-empty").path
        let missing = try CLI.run(["ask", "anything", "--index", root + "/none.sqlite", "--generator", GenerateCLITests.generatorPath])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no index at"), "\(missing.stderr)")

        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let built = try CLI.run(["index", empty, "--index", root + "/empty.sqlite"])
        #expect(built.status == 0, "\(built.stderr)")
        let nothing = try CLI.run(["ask", "anything", "--index", root + "/empty.sqlite", "--generator", GenerateCLITests.generatorPath])
        #expect(nothing.status != 0)
        #expect(nothing.stderr.contains("no passages to answer from"), "\(nothing.stderr)")

        let blank = try CLI.run(["ask", "  ", "--index", root + "/empty.sqlite"])
        #expect(blank.status != 0)
        #expect(blank.stderr.contains("question is empty"), "\(blank.stderr)")
    }
}
