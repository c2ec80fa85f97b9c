import Testing
@testable import GemmaSearch

@Suite("Text extraction")
struct ExtractionTests {
    let extractor = TextExtractor(pdfToText: nil)

    private func text(_ path: String, _ content: String) throws -> ExtractedText {
        try extractor.extract(path: path, bytes: Array(content.utf8)).get()
    }

    @Test("HTML loses tags, scripts and styles but keeps its line numbers; entities are decoded; the title is kept apart")
    func html() throws {
        let page = """
        <html><head><title>My &amp; Page</title>
        <style>body { color: red }
        p { margin: 0 }</style></head>
        <body><h1>Hello</h1>
        <p>caf&eacute; &#233; &#x41; &lt;tag&gt;</p>
        <script>var x = "<p>no</p>";
        </script></body></html>
        """
        let extracted = try text("page.html", page)
        let lines = extracted.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 7)
        #expect(lines[3] == "Hello")
        #expect(lines[4] == "café é A <tag>")
        #expect(!extracted.text.contains("color"))
        #expect(!extracted.text.contains("var x"))
        #expect(extracted.title == "My & Page")
        #expect(extracted.kind == .html)
    }

    @Test("NUL bytes mean binary; empty and white-space files have no text; invalid UTF-8 is read as Latin-1")
    func bytes() throws {
        #expect(extractor.extract(path: "a.txt", bytes: [0x41, 0x00, 0x42]) == .failure(.binary))
        #expect(extractor.extract(path: "a.txt", bytes: []) == .failure(.empty))
        #expect(extractor.extract(path: "a.txt", bytes: Array(" \n\t\n".utf8)) == .failure(.empty))
        let latin1 = try extractor.extract(path: "a.txt", bytes: [0x63, 0x61, 0x66, 0xE9]).get()
        #expect(latin1.text == "café")
        #expect(latin1.decodedAsLatin1)
        let bom = try extractor.extract(path: "a.md", bytes: [0xEF, 0xBB, 0xBF] + Array("# T".utf8)).get()
        #expect(bom.text == "# T")
        #expect(bom.kind == .markdown)
    }

    @Test("a PDF without pdftotext is left out with a reason that says what to install")
    func pdfWithoutTool() {
        let result = extractor.extract(path: "paper.pdf", bytes: Array("%PDF-1.4".utf8))
        #expect(result == .failure(.pdfToolMissing))
        #expect(SkippedFile.Reason.pdfToolMissing.description.contains("poppler-utils"))
    }
}
