import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaClassify

/// `gemma-embed route`: queries to routes (actions) by their example queries.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Route queries to the closest route of a routes file, or to none when no route is close enough.",
        discussion: """
        The routes file is {"routes": [{"name", "description", "examples": [...]}], "threshold": ...}. Without a \
        threshold, one is calibrated leave-one-out from the examples (see `route calibrate`). Example vectors are \
        cached in ~/.cache/embeddinggemma/routes.
        """,
        subcommands: [RouteQueryCommand.self, RouteCalibrateCommand.self],
        defaultSubcommand: RouteQueryCommand.self
    )
}

/// The options every `route` subcommand shares: the routes, how they are embedded and scored.
struct RouteOptions: ParsableArguments {
    @Option(name: .long, help: "The routes file (JSON).")
    var routes: String

    @OptionGroup var promptOptions: ClassifyPromptOptions

    @Option(name: .long, help: "Scoring: centroid (the cosine of the examples' mean) or nearest (the closest example's cosine).")
    var scoring: RouteScoring = .centroid

    @Option(name: .customLong("target-precision"), help: "Calibrate the threshold for this leave-one-out precision (0-1).")
    var targetPrecision: Double = 0.9

    @Flag(name: .customLong("no-cache"), help: "Embed the examples again instead of using (and writing) the cache.")
    var noCache = false

    func validate() throws {
        guard (0...1).contains(targetPrecision) else { throw ValidationError("--target-precision must be between 0 and 1") }
    }

    /// The router over the routes file, its examples embedded (with a progress bar) or cached.
    func router(model: EmbeddingModel) throws -> Router {
        let bar = ProgressBar()
        defer { bar.finish() }
        let options = RouterOptions(dimensions: promptOptions.dimensions, prompt: promptOptions.value, scoring: scoring,
                                    criterion: .precision(targetPrecision), cacheDirectory: noCache ? nil : RouterOptions.defaultCacheDirectory)
        do {
            return try Router(contentsOf: routes, model: model, options: options) {
                bar.update(done: $0.done, total: $0.total, elapsed: $0.elapsed, what: "examples")
            }
        } catch {
            throw error.cliError
        }
    }
}

extension RouteScoring: ExpressibleByArgument {}

/// A route match as a JSON line: `{"route", "score", "nearest", "alternatives": [{"route", "score"}]}`.
struct RouteRecord: Encodable {
    var route: String?
    var score: Double
    var nearest: String
    var alternatives: [RouteScore]

    init(_ match: RouteMatch) {
        route = match.route
        score = match.score
        nearest = match.nearest
        alternatives = match.alternatives
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(route, forKey: .route)  // null when no route is taken
        try container.encode(score, forKey: .score)
        try container.encode(nearest, forKey: .nearest)
        try container.encode(alternatives, forKey: .alternatives)
    }

    enum CodingKeys: String, CodingKey {
        case route, score, nearest, alternatives
    }
}

/// `gemma-embed route [query] --routes routes.json QUERY...`.
struct RouteQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Route queries; prints one JSON line {\"route\", \"score\", \"nearest\", \"alternatives\"} per query (route null: none)."
    )

    @OptionGroup var routeOptions: RouteOptions
    @OptionGroup var inputs: InputOptions
    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let records = try inputs.read()
        let router = try routeOptions.router(model: try modelOptions.load())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let writer = try OutputWriter(path: nil)
        for offset in stride(from: 0, to: records.count, by: 64) {
            let slice = Array(records[offset..<min(records.count, offset + 64)])
            let texts = slice.map(\.text)
            let matches: [RouteMatch]
            switch Result(catching: { () throws(ClassifyError) in try router.route(texts) }) {
            case .success(let routed):
                matches = routed
            case .failure(let error):
                if case .model(let index?, let cause) = error { throw CLIError("input \(slice[index].line): \(cause.hint)") }
                throw error.cliError
            }
            for match in matches {
                writer.writeLine(String(decoding: try encoder.encode(RouteRecord(match)), as: UTF8.self))
            }
        }
        writer.flush()
    }
}
