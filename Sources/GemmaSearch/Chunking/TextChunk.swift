import Foundation

/// A piece of a file that is embedded and found as one unit.
public struct TextChunk: Sendable, Hashable {
    /// The chunk's text (lines joined by `\n`).
    public var text: String
    /// Its title for the document prompt (`title: {title} | text: `): the Markdown heading it is
    /// under, or the HTML page title; nil for `title: none`.
    public var title: String?
    /// First line of the file in the chunk, counted from 1.
    public var startLine: Int
    /// Last line of the file in the chunk.
    public var endLine: Int
    /// Tokens of the text (without the prompt), as counted when chunking.
    public var tokenCount: Int

    /// The title as it goes into the document prompt: white space folded, `|` (the prompt's
    /// separator) replaced by `/`; nil when there is none.
    public var promptTitle: String? {
        guard let title else { return nil }
        let cleaned = title.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").replacingOccurrences(of: "|", with: "/")
        return cleaned.isEmpty ? nil : cleaned
    }

    public init(text: String, title: String?, startLine: Int, endLine: Int, tokenCount: Int) {
        self.text = text
        self.title = title
        self.startLine = startLine
        self.endLine = endLine
        self.tokenCount = tokenCount
    }
}
