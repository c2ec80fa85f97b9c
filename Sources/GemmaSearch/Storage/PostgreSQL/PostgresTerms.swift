import Foundation

/// The words PostgreSQL's text search matches phrases on, made here rather than by its parser,
/// so that they are the words the SQLite store's FTS5 (`unicode61 remove_diacritics 2`) sees:
/// runs of letters and digits, lower-cased, without diacritics. A chunk's words go in as a
/// `tsvector` literal with positions; a query's as a `tsquery` of `<->` (followed-by) steps.
/// Only letters and digits reach either literal, so no text can change its syntax.
enum PostgresTerms {
    /// Longest word kept (PostgreSQL refuses lexemes over 2 kB; no one searches for such a word).
    static let longestWord = 256
    /// Highest word position PostgreSQL keeps (later positions are all stored as this).
    private static let lastPosition = 16383

    /// The folded words of `text`, in order.
    static func words(of text: String) -> [String] {
        SemanticIndex.words(of: text).map { $0.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil) }
            .filter { !$0.isEmpty && $0.utf8.count <= longestWord && $0.allSatisfy { $0.isLetter || $0.isNumber } }
    }

    /// A `tsvector` literal of `text`'s words with their positions (`'word':1,7 'other':2`).
    static func vector(of text: String) -> String {
        var positions: [String: [Int]] = [:]
        var order: [String] = []
        for (index, word) in words(of: text).enumerated() {
            if positions[word] == nil { order.append(word) }
            let position = min(index + 1, lastPosition)
            if positions[word]?.last != position { positions[word, default: []].append(position) }
        }
        return order.map { word in
            "'\(word)':" + (positions[word] ?? []).map(String.init).joined(separator: ",")
        }.joined(separator: " ")
    }

    /// A `tsquery` literal matching `terms` one after another; nil when none can be matched.
    static func phrase(_ terms: [String]) -> String? {
        let folded = terms.flatMap { words(of: $0) }
        guard !folded.isEmpty, folded.count == terms.count else { return nil }
        return folded.map { "'\($0)'" }.joined(separator: " <-> ")
    }
}
