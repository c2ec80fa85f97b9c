/// How a file's text is extracted and chunked, from its name.
public enum TextKind: Sendable, Hashable {
    /// Markdown: headings become chunk titles.
    case markdown
    /// HTML: tags, scripts and styles removed, entities decoded.
    case html
    /// PDF: the text layer, through `pdftotext`.
    case pdf
    /// Plain text and source code, as it is.
    case other

    /// The kind of the file at `path`, by its ending.
    public init(path: String) {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else {
            self = .other
            return
        }
        switch path[path.index(after: dot)...].lowercased() {
        case "md", "markdown", "mdx", "mkd": self = .markdown
        case "html", "htm", "xhtml": self = .html
        case "pdf": self = .pdf
        default: self = .other
        }
    }
}
