/// Lines of an indexed file around one line (a hit's), as a result list previews them.
public struct FilePreview: Sendable, Hashable, Codable {
    /// The file's absolute path, as the index holds it.
    public var path: String
    /// The line asked for (clamped to the file).
    public var line: Int
    /// Number of the first line of ``lines``.
    public var startLine: Int
    /// Number of the last line of ``lines``.
    public var endLine: Int
    /// The text of lines ``startLine`` through ``endLine``, as the index read them (a PDF's
    /// extracted text, an HTML page's visible text).
    public var lines: [String]

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, Sendable {
        case path, line, startLine = "start_line", endLine = "end_line", lines
    }

    public init(path: String, line: Int, startLine: Int, endLine: Int, lines: [String]) {
        self.path = path
        self.line = line
        self.startLine = startLine
        self.endLine = endLine
        self.lines = lines
    }
}
