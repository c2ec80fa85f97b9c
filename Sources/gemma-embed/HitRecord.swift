import Foundation
import GemmaSearch

/// A search result or an answer's source as `--json` prints it: a hit in its JSON form
/// (``SearchHit``'s keys: `path`, `line`, `start_line`, `end_line`, `score`, `dense`, `lexical`,
/// `title`, `text`) with its path as the user sees it (``SearchCommand/displayPath(_:)``), and
/// the id of its query (`query_id`, `search --queries`) or its number (`n`, `ask`).
struct HitRecord: Encodable {
    /// What is printed of the hit.
    private enum Content {
        /// All of it.
        case hit(SearchHit)
        /// An answer's source: where it is and its score (the answer quotes the text).
        case source(path: String, line: Int, startLine: Int, endLine: Int, score: Float, title: String?)
    }

    private enum RecordKeys: String, CodingKey {
        case number = "n", queryId = "query_id"
    }

    private let content: Content
    private var queryId: String?
    private var number: Int?

    /// A search result, with the id of its query when a file of queries runs.
    init(_ hit: SearchHit, queryId: String?) {
        var shown = hit
        shown.path = SearchCommand.displayPath(hit.path)
        content = .hit(shown)
        self.queryId = queryId
    }

    /// Source `number` of an answer.
    init(number: Int, path: String, line: Int, startLine: Int, endLine: Int, score: Float, title: String?) {
        content = .source(path: SearchCommand.displayPath(path), line: line, startLine: startLine, endLine: endLine, score: score, title: title)
        self.number = number
    }

    func encode(to encoder: any Encoder) throws {
        switch content {
        case .hit(let hit):
            try hit.encode(to: encoder)
        case .source(let path, let line, let startLine, let endLine, let score, let title):
            var fields = encoder.container(keyedBy: SearchHit.CodingKeys.self)
            try fields.encode(path, forKey: .path)
            try fields.encode(line, forKey: .line)
            try fields.encode(startLine, forKey: .startLine)
            try fields.encode(endLine, forKey: .endLine)
            try fields.encode(score, forKey: .score)
            try fields.encodeIfPresent(title, forKey: .title)
        }
        var record = encoder.container(keyedBy: RecordKeys.self)
        try record.encodeIfPresent(number, forKey: .number)
        try record.encodeIfPresent(queryId, forKey: .queryId)
    }

    /// The record as one line of JSON (keys sorted, slashes as they are).
    func jsonLine() throws -> String {
        String(decoding: try Self.encoder.encode(self), as: UTF8.self)
    }

    /// The encoder of ``jsonLine()`` and of objects holding records.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }
}
