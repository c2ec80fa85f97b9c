import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaSearch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gemma-embed search`: finds the chunks of indexed files that best match a query.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the index: prints `path:line: snippet` for the best matching chunks (exit status 1 when none).",
        discussion: """
        Queries are embedded with the query prompt and matched by meaning, in any language; chunks that hold the \
        query's words literally come first. Paths below the current folder are printed relative to it.
        """
    )

    @Argument(help: "What to look for.")
    var query: String?

    @Argument(help: "Only results in files at or below this path.")
    var path: String?

    @OptionGroup var indexOptions: IndexOptionGroup

    @Option(name: .long, help: "Model for the query (default: the one the index was built with).")
    var model: String?

    @Option(name: .short, help: "Number of results.")
    var k = 10

    @Flag(name: .long, help: "One JSON object per result: {\"path\",\"line\",\"end_line\",\"score\",\"text\",...}.")
    var json = false

    @Flag(name: .customShort("l"), help: "Print only the paths of matching files (best chunk per file).")
    var filesOnly = false

    @Option(name: .customLong("min-score"), help: "Leave out results scoring below this.")
    var minScore: Float?

    @Option(name: .customLong("lexical-weight"), help: "Bonus for chunks holding the query word for word (0: by meaning only).")
    var lexicalWeight: Float = SemanticIndex.exactMatchWeight

    @Option(name: .long, help: "Run every query of a JSON Lines file ({\"id\",\"query\"} per line); results carry \"query_id\".")
    var queries: String?

    func validate() throws {
        if k < 1 { throw ValidationError(SearchError.invalidLimit(k).description) }
        if !(lexicalWeight >= 0) { throw ValidationError("--lexical-weight must be 0 or more") }
        if queries == nil {
            guard let query else { throw ValidationError("give a query (or --queries FILE)") }
            if !query.contains(where: { !$0.isWhitespace }) { throw ValidationError(SearchError.emptyQuery.description) }
        }
    }

    func run() throws {
        do {
            let loaded: EmbeddingModel?
            do { loaded = try model.map { try EmbeddingModel(path: $0) } } catch let error as EmbeddingGemmaError { throw SearchError.model(error) }
            let index = try SemanticIndex.open(path: indexOptions.path, model: loaded)
            // With --queries, a single positional argument is the path filter.
            let scope = queries != nil ? (path ?? query) : path
            if let scope, !FileManager.default.fileExists(atPath: scope) { throw SearchError.pathNotFound(scope) }
            let writer = try OutputWriter(path: nil)
            let style = OutputStyle(colour: !json && isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
            if let queries {
                for (id, text) in try Self.readQueries(queries) {
                    let hits = try index.search(text, limit: k, under: scope, filesOnly: filesOnly, minScore: minScore, lexicalWeight: lexicalWeight)
                    for hit in hits { writer.writeLine(try format(hit, queryId: id, style: style)) }
                }
                writer.flush()
                return
            }
            let hits = try index.search(query ?? "", limit: k, under: scope, filesOnly: filesOnly, minScore: minScore, lexicalWeight: lexicalWeight)
            for hit in hits { writer.writeLine(try format(hit, queryId: nil, style: style)) }
            writer.flush()
            if hits.isEmpty { throw ExitCode(1) }
        } catch let error as SearchError {
            throw error.cliError
        }
    }

    /// One result as a line of output.
    private func format(_ hit: SearchHit, queryId: String?, style: OutputStyle) throws -> String {
        if json { return try HitRecord(hit, queryId: queryId).jsonLine() }
        let shown = Self.displayPath(hit.path)
        if filesOnly { return style.path(shown) }
        return style.path(shown) + ":" + style.line(hit.line) + ": " + hit.snippet + "  " + style.score(Double(hit.score).fixed(3))
    }

    /// `path` relative to the working folder when it is below it.
    static func displayPath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// `(id, query)` pairs of a JSON Lines file.
    static func readQueries(_ path: String) throws -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the queries file \(path)") }
        var result: [(String, String)] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            guard let record = try? JSONDecoder().decode(QueryRecord.self, from: Data(line.utf8)) else {
                throw CLIError("\(path):\(number + 1): expected {\"id\": ..., \"query\": \"...\"}")
            }
            guard record.query.contains(where: { !$0.isWhitespace }) else {
                throw CLIError("\(path):\(number + 1): \(SearchError.emptyQuery.description)")
            }
            result.append((record.id?.text ?? String(number + 1), record.query))
        }
        return result
    }
}

/// A line of `--queries`: an id (string or number) and the query.
private struct QueryRecord: Decodable {
    struct Identifier: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) { text = string } else { text = String(try container.decode(Int.self)) }
        }
    }
    var id: Identifier?
    var query: String
}

/// Colours for a terminal (none otherwise), as grep uses them.
struct OutputStyle {
    var colour: Bool
    func path(_ text: String) -> String { colour ? "\u{1B}[35m\(text)\u{1B}[0m" : text }
    func line(_ number: Int) -> String { colour ? "\u{1B}[32m\(number)\u{1B}[0m" : String(number) }
    func score(_ text: String) -> String { colour ? "\u{1B}[2m(\(text))\u{1B}[0m" : "(\(text))" }
}
