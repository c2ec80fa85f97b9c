import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// `gemma-embed index` and `search` on the tiny model, run as a user would.
@Suite("gemma-embed index and search on a tiny model", .serialized)
struct SearchCLITests {
    static let model: String = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TinyModel.write()
    }()

    /// A folder with a corpus and an index path beside it.
    static func corpus() throws -> (root: String, docs: String, index: String) {
        let root = ScratchDirectory("search-cli").path
        let docs = root + "/docs"
        try FileManager.default.createDirectory(atPath: docs + "/sub", withIntermediateDirectories: true)
        let files = ["a.txt": "abc hi\nzq-77 here\n", "sub/b.md": "# Title\nbc ab\n", "c.txt": "hi hi hi\n", "empty.txt": ""]
        for (name, text) in files { try text.write(toFile: docs + "/" + name, atomically: true, encoding: .utf8) }
        return (root, docs, root + "/index.sqlite")
    }

    static func index(_ c: (root: String, docs: String, index: String), _ extra: [String] = []) throws -> CLI.Output {
        try CLI.run(["index", "--index", c.index, "--model", model, "--chunk-tokens", "24"] + extra + [c.docs])
    }

    @Test("index prints one summary line off a terminal; a second run finds everything unchanged")
    func indexSummary() throws {
        let c = try Self.corpus()
        let first = try Self.index(c)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("4 files: 3 new, 0 changed, 0 unchanged, 0 removed"), "\(first.stderr)")
        #expect(first.stderr.contains("left out 1: 1 empty"))
        #expect(!first.stderr.contains("\u{1B}["), "no progress bar off a terminal")
        let second = try CLI.run(["index", "--index", c.index, c.docs])  // the model comes from the index
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("0 new, 0 changed, 4 unchanged"), "\(second.stderr)")
        let stats = try CLI.run(["index", "--index", c.index, "--stats"])
        #expect(stats.stdout.contains("files: 3 (1 more left out)"), "\(stats.stdout)")
    }

    @Test("search prints grep-like lines with paths relative to where the user stands; -l lists files; --json has the fields")
    func searchOutput() throws {
        let c = try Self.corpus()
        _ = try Self.index(c)
        let plain = try CLI.run(["search", "--index", c.index, "-k", "2", "--lexical-weight", "5", "zq-77"], directory: c.root)
        #expect(plain.status == 0, "\(plain.stderr)")
        let first = try #require(plain.stdout.split(separator: "\n").first)
        #expect(first.hasPrefix("docs/a.txt:2: zq-77 here  ("), "\(first)")
        #expect(!plain.stdout.contains("\u{1B}["), "no colour off a terminal")

        let files = try CLI.run(["search", "--index", c.index, "-l", "-k", "10", "hi"], directory: c.docs)
        let listed = files.stdout.split(separator: "\n").map(String.init)
        #expect(Set(listed) == ["a.txt", "sub/b.md", "c.txt"])

        let json = try CLI.run(["search", "--index", c.index, "--json", "-k", "3", "abc"])
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let path = try #require(object["path"] as? String)
            #expect(path.hasPrefix(c.docs + "/"), "absolute outside the working folder")
            #expect(object["line"] is Int && object["end_line"] is Int && object["score"] is Double && object["text"] is String)
        }

        let under = try CLI.run(["search", "--index", c.index, "--json", "-k", "10", "abc", c.docs + "/sub"])
        #expect(!under.stdout.isEmpty && under.stdout.split(separator: "\n").allSatisfy { $0.contains("/sub/b.md") })
    }

    @Test("--queries runs every query in one process, each result carrying its query_id")
    func queriesFile() throws {
        let c = try Self.corpus()
        _ = try Self.index(c)
        let queries = c.root + "/q.jsonl"
        try "{\"id\": \"x1\", \"query\": \"abc\"}\n{\"id\": 7, \"query\": \"hi\"}\n".write(toFile: queries, atomically: true, encoding: .utf8)
        let result = try CLI.run(["search", "--index", c.index, "--queries", queries, "--json", "-k", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let ids = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["query_id"] as? String
        }
        #expect(ids == ["x1", "x1", "7", "7"])
        try "{\"query\": 3}\n".write(toFile: queries, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["search", "--index", c.index, "--queries", queries])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("q.jsonl:1"), "\(bad.stderr)")
    }

    @Test("bad input gives a clear error and a non-zero exit", arguments: [
        (["search", "-k", "0", "abc"], "at least 1"),
        (["search", "   "], "query is empty"),
        (["search", "abc", "/no/such/folder"], "no such file or folder"),
        (["index", "/no/such/folder"], "no such file or folder"),
        (["index", "--chunk-tokens", "4000", "."], "add --rebuild to re-chunk"),
        (["index", "--rebuild", "--chunk-tokens", "4000", "."], "--chunk-tokens must be between"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let c = try Self.corpus()
        _ = try Self.index(c)
        let result = try CLI.run([arguments[0], "--index", c.index] + arguments.dropFirst() + (arguments[0] == "index" ? ["--model", Self.model] : []),
                                 directory: c.docs)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("a missing or corrupt index, or another model, is a clear error")
    func badIndex() throws {
        let c = try Self.corpus()
        let missing = try CLI.run(["search", "--index", c.root + "/none.sqlite", "abc"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no index at"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: c.root + "/none.sqlite"), "searching creates no index")

        try String(repeating: "garbage ", count: 500).write(toFile: c.index, atomically: true, encoding: .utf8)
        let corrupt = try CLI.run(["search", "--index", c.index, "abc"])
        #expect(corrupt.status != 0)
        #expect(corrupt.stderr.contains("not a usable search index"), "\(corrupt.stderr)")

        try FileManager.default.removeItem(atPath: c.index)
        _ = try Self.index(c)
        let other = try Self.index(c, ["--quantization", "f16"])
        #expect(other.status != 0)
        #expect(other.stderr.contains("--rebuild"), "\(other.stderr)")
        let rebuilt = try Self.index(c, ["--quantization", "f16", "--rebuild"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stderr.contains("3 new"), "\(rebuilt.stderr)")
        // Search loads the model the index records, re-encoded as it was.
        let search = try CLI.run(["search", "--index", c.index, "abc"])
        #expect(search.status == 0, "\(search.stderr)")
    }

    @Test("PDF text is indexed through pdftotext when it is installed", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext")))
    func pdf() throws {
        let c = try Self.corpus()
        try Data(Self.minimalPDF(text: "quokka habitat survey")).write(to: URL(fileURLWithPath: c.docs + "/paper.pdf"))
        let indexed = try Self.index(c)
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(indexed.stderr.contains("4 new"), "\(indexed.stderr)")
        let found = try CLI.run(["search", "--index", c.index, "--json", "-k", "1", "--lexical-weight", "5", "quokka habitat"])
        #expect(found.stdout.contains("paper.pdf"), "\(found.stdout)")
        #expect(found.stdout.contains("quokka habitat survey"))
    }

    /// A one-page PDF showing `text` in Helvetica, with a correct cross-reference table.
    static func minimalPDF(text: String) -> [UInt8] {
        let content = "BT /F1 18 Tf 72 700 Td (\(text)) Tj ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        var pdf = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (i, object) in objects.enumerated() {
            offsets.append(pdf.utf8.count)
            pdf += "\(i + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = pdf.utf8.count
        pdf += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            pdf += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        pdf += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(pdf.utf8)
    }
}
