import Testing
@testable import GemmaSearch

/// Chunking with a word-count tokenizer (one token per word), so budgets are easy to reason about.
@Suite("Chunker")
struct ChunkerTests {
    static func words(_ text: Substring) -> Int { text.split(whereSeparator: { $0 == " " }).count }

    @Test("a small file is one chunk holding the file's text exactly, newline included")
    func smallFile() {
        let text = "first line\nsecond line\n"
        let chunks = Chunker(maxTokens: 100, overlapTokens: 4).chunks(of: text, countTokens: Self.words)
        #expect(chunks.count == 1)
        #expect(chunks[0].text == text)
        #expect(chunks[0].startLine == 1 && chunks[0].endLine == 2)
        #expect(chunks[0].title == nil)
    }

    @Test("chunks stay within the budget, cover every line in order, and cut at blank lines when that keeps them half full")
    func paragraphs() {
        // Paragraphs of 3 lines × 4 words (+1 per line) = 15 tokens, then a blank line (1).
        var lines: [String] = []
        for p in 0..<6 {
            for l in 0..<3 { lines.append("p\(p) l\(l) word word") }
            lines.append("")
        }
        let text = lines.joined(separator: "\n")
        let chunker = Chunker(maxTokens: 40, overlapTokens: 6)
        let chunks = chunker.chunks(of: text, countTokens: Self.words)
        #expect(chunks.count == 3)
        for chunk in chunks {
            #expect(chunk.tokenCount <= 40)
            // Cut at paragraph ends: each chunk starts at a paragraph's first line and ends at a paragraph's last line.
            #expect(chunk.startLine % 4 == 1, "chunk starts at line \(chunk.startLine)")
            #expect(chunk.endLine % 4 == 3, "chunk ends at line \(chunk.endLine)")
            #expect(chunk.text.hasPrefix("p"))
        }
        #expect(chunks.first?.startLine == 1)
        #expect(chunks.last?.endLine == 23)
        // Every non-blank line is in some chunk.
        let covered = Set(chunks.flatMap { Array($0.startLine...$0.endLine) })
        for (i, line) in lines.enumerated() where !line.isEmpty { #expect(covered.contains(i + 1)) }
    }

    @Test("a cut inside a long paragraph repeats a few lines as overlap")
    func overlap() {
        let text = (1...30).map { "line \($0) has five words" }.joined(separator: "\n")  // 6 tokens a line
        let chunks = Chunker(maxTokens: 30, overlapTokens: 12).chunks(of: text, countTokens: Self.words)
        #expect(chunks.count > 1)
        for (a, b) in zip(chunks, chunks.dropFirst()) {
            #expect(b.startLine == a.endLine - 1, "two lines (12 tokens) of overlap: \(a.startLine)-\(a.endLine) then \(b.startLine)")
            #expect(a.tokenCount <= 30)
        }
        #expect(chunks.last?.endLine == 30)
    }

    @Test("Markdown headings become titles and start new chunks; headings inside code fences do not")
    func markdown() {
        let text = """
        # Guide
        intro words here and there
        ## Install
        run the installer with care
        ```
        # not a heading
        ```
        ## Use
        open the app
        """
        let chunks = Chunker(maxTokens: 20, overlapTokens: 2).chunks(of: text, kind: .markdown, countTokens: Self.words)
        #expect(chunks.map(\.title) == ["Guide", "Install", "Use"])
        #expect(chunks.map(\.startLine) == [1, 3, 8])
        #expect(Chunker.markdownHeading("### Deep ###") == "Deep")
        #expect(Chunker.markdownHeading("#hashtag") == nil)
        #expect(Chunker.markdownHeading("    # code") == nil)
    }

    @Test("a line longer than a chunk is split between words, every piece keeping the line number")
    func longLine() {
        let line = (1...100).map { "w\($0)" }.joined(separator: " ")
        let text = "short\n" + line + "\nend\n"
        let chunks = Chunker(maxTokens: 32, overlapTokens: 4).chunks(of: text, countTokens: Self.words)
        let pieces = chunks.filter { $0.startLine == 2 && $0.endLine == 2 }
        #expect(pieces.count >= 3)
        for chunk in chunks { #expect(chunk.tokenCount <= 32) }
        // The words of the long line all appear, in order, without loss.
        let joined = chunks.flatMap { $0.text.split(whereSeparator: { $0 == " " || $0 == "\n" }) }.filter { $0.hasPrefix("w") }
        var seen = Set<Substring>()
        let ordered = joined.filter { seen.insert($0).inserted }
        #expect(ordered.count == 100)
        #expect(ordered.first == "w1" && ordered.last == "w100")
    }

    @Test("titles used in prompts fold white space and replace the prompt's separator")
    func promptTitle() {
        let chunk = TextChunk(text: "x", title: "A |  B\tC", startLine: 1, endLine: 1, tokenCount: 1)
        #expect(chunk.promptTitle == "A / B C")
        #expect(TextChunk(text: "x", title: "  ", startLine: 1, endLine: 1, tokenCount: 1).promptTitle == nil)
    }
}
