/// One result of a search: a chunk of a file and how well it matches.
public struct SearchHit: Sendable, Hashable {
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
}
