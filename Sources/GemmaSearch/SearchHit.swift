/// One result of a search: a chunk of a file and how well it matches.
///
/// Its JSON form (`Codable`) is the one result lines and APIs print:
/// `{"path", "line", "start_line", "end_line", "score", "dense", "lexical", "title", "text"}`
/// (`title` only when the chunk has one). ``snippet`` is not written: it is the text of ``line``,
/// read back from ``text``.
public struct SearchHit: Sendable, Hashable, Codable {
    /// The file's absolute path.
    public var path: String
    /// The line the snippet comes from (the chunk's line with the most query words, else its first).
    public var line: Int
    /// First line of the chunk.
    public var startLine: Int
    /// Last line of the chunk.
    public var endLine: Int
    /// The ranking score: ``denseScore`` plus ``lexicalScore``.
    public var score: Float
    /// Cosine similarity of the query and the chunk (exact, from the stored float32 vectors).
    public var denseScore: Float
    /// The bonus for holding the query's words literally, one after another (0 when it does not):
    /// larger the fewer chunks hold them.
    public var lexicalScore: Float
    /// The chunk's title (Markdown heading or page title), if any.
    public var title: String?
    /// The chunk's text.
    public var text: String
    /// The text of ``line``, trimmed.
    public var snippet: String

    /// The JSON keys of a hit.
    public enum CodingKeys: String, CodingKey, Sendable {
        case path, line, startLine = "start_line", endLine = "end_line", score, denseScore = "dense", lexicalScore = "lexical", title, text
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        line = try container.decode(Int.self, forKey: .line)
        startLine = try container.decode(Int.self, forKey: .startLine)
        endLine = try container.decode(Int.self, forKey: .endLine)
        score = try container.decode(Float.self, forKey: .score)
        denseScore = try container.decode(Float.self, forKey: .denseScore)
        lexicalScore = try container.decode(Float.self, forKey: .lexicalScore)
        title = try container.decodeIfPresent(String.self, forKey: .title)
        text = try container.decode(String.self, forKey: .text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        snippet = lines.indices.contains(line - startLine) ? Self.snippet(lines[line - startLine]) : ""
    }

    init(path: String, line: Int, startLine: Int, endLine: Int, score: Float, denseScore: Float, lexicalScore: Float,
         title: String?, text: String, snippet: String) {
        self.path = path
        self.line = line
        self.startLine = startLine
        self.endLine = endLine
        self.score = score
        self.denseScore = denseScore
        self.lexicalScore = lexicalScore
        self.title = title
        self.text = text
        self.snippet = snippet
    }

    /// A line as a snippet: trimmed, at most 200 characters.
    static func snippet(_ line: Substring) -> String {
        let text = String(line.trimmingWhitespace())
        return text.count > 200 ? String(text.prefix(199)) + "…" : text
    }
}
