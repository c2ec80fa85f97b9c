import EmbeddingGemma
import Foundation

extension SemanticIndex {
    /// The text of an indexed file around `line`, read the way the index read it.
    ///
    /// Only a file the index holds at exactly `path` is read, and only while its bytes are the ones
    /// the index hashed: a path a caller makes up (`..`, a link swapped to point elsewhere, any
    /// file outside the indexed folders) is refused, so a server can offer this to its clients.
    /// - Parameters:
    ///   - path: an indexed file's absolute path, as hits give it.
    ///   - line: the line to centre on (1-based; clamped to the file).
    ///   - context: lines before and after it (0...1000).
    /// - Throws: ``SearchError/fileNotIndexed(_:)`` for a path the index does not hold,
    ///   ``SearchError/fileChanged(_:)`` when the file's bytes changed since it was indexed,
    ///   ``SearchError/invalidOption(_:)`` for a bad `context`.
    public func preview(of path: String, around line: Int, context: Int = 20) throws(SearchError) -> FilePreview {
        guard (0...1000).contains(context) else { throw .invalidOption("context must be between 0 and 1000 lines (got \(context))") }
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
              let stored = try store.file(at: path), stored.chunkCount > 0 else {
            throw .fileNotIndexed(path)
        }
        let bytes: [UInt8]
        switch TextFile.read(path) {
        case .success(let read): bytes = read
        case .failure: throw .fileChanged(path)
        }
        var sha = SHA256()
        sha.update(bytes)
        guard sha.finalizeHex() == stored.hash else { throw .fileChanged(path) }
        guard case .success(let extracted) = TextExtractor().extract(path: path, bytes: bytes) else { throw .fileChanged(path) }
        let all = extracted.text.split(separator: "\n", omittingEmptySubsequences: false)
        let count = max(all.count, 1)
        let centre = min(max(line, 1), count)
        let first = max(1, centre - context), last = min(count, centre + context)
        let lines = all.isEmpty ? [""] : all[(first - 1)..<last].map(String.init)
        return FilePreview(path: path, line: centre, startLine: first, endLine: last, lines: lines)
    }
}
