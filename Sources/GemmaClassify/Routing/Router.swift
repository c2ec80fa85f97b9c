import EmbeddingGemma

/// Routes queries to actions: each route has example queries; a query takes the route whose
/// examples it is closest to (``RouteScoring``) when that score reaches the threshold (the routes
/// file's, or one calibrated leave-one-out from the examples, ``RouteCalibration``), else none.
/// A route can carry a handler, so that "query → function call" is one call.
///
/// ```swift
/// var router = try Router(contentsOf: "routes.json", model: try EmbeddingModel())
/// try router.register("lights_off") { query in lights.off() }
/// let match = try router.dispatch("mach das Licht aus")   // runs the handler; match.route == "lights_off"
/// ```
///
/// The examples are embedded once per model, width, prompt and set of examples and cached
/// (``RouterOptions/cacheDirectory``).
public struct Router: Sendable {
    /// What runs for a query routed to a route: it receives the query.
    public typealias Handler = @Sendable (_ query: String) throws -> Void

    /// The routes.
    public let routes: RouteSet
    /// The settings in force.
    public let options: RouterOptions
    /// The model queries are embedded with.
    public let model: EmbeddingModel
    /// The model the example vectors belong to.
    public let identity: ModelIdentity
    /// The width of every vector.
    public let dimensions: Int
    /// The prompt text in front of examples and queries.
    public let promptText: String
    /// The leave-one-out calibration of the examples.
    public let calibration: RouteCalibration
    /// Whether the example vectors came from the cache.
    public let cacheHit: Bool
    /// Every example's vector, in route and example order.
    let vectors: [[Float]]
    /// The indices of each route's examples in ``vectors``.
    let members: [[Int]]
    /// Each route's sum of vectors (for centroid scoring).
    let sums: [[Double]]
    private var handlers: [String: Handler] = [:]

    /// The threshold in force: the routes file's, else the calibrated one.
    public var threshold: Double { routes.threshold ?? calibration.threshold }

    /// Reads a routes file and embeds (or loads from the cache) its examples.
    /// - Throws: the errors of ``RouteSet/read(path:)`` and ``init(routes:model:options:progress:)``.
    public init(contentsOf path: String, model: EmbeddingModel, options: RouterOptions = RouterOptions(),
                progress: ((EmbeddingProgress) -> Void)? = nil) throws(ClassifyError) {
        try self.init(routes: RouteSet.read(path: path), model: model, options: options, progress: progress)
    }

    /// A router over `routes`.
    /// - Parameter progress: called after every batch of examples embedded (not when cached).
    /// - Throws: ``ClassifyError/model(index:_:)`` for a width or prompt the model does not have,
    ///   ``ClassifyError/invalidFile(path:field:reason:)`` naming an example the model cannot embed.
    public init(routes: RouteSet, model: EmbeddingModel, options: RouterOptions = RouterOptions(),
                progress: ((EmbeddingProgress) -> Void)? = nil) throws(ClassifyError) {
        let width: Int, prompt: String
        do {
            width = try model.validate(dimensions: options.dimensions)
            prompt = try model.promptText(options.prompt)
        } catch {
            throw .model(index: nil, error)
        }
        let identity = ModelIdentity(model)
        var texts: [String] = [], members: [[Int]] = [], owners: [(route: Int, example: Int)] = []
        for (r, route) in routes.routes.enumerated() {
            members.append(Array(texts.count..<(texts.count + route.examples.count)))
            owners += route.examples.indices.map { (r, $0) }
            texts += route.examples
        }
        let key = RouteCache.key(fingerprint: identity.fingerprint, dimensions: width, prompt: prompt, examples: texts)
        let cacheFile = options.cacheDirectory.map {
            RouteCache.file(directory: $0, location: routes.path ?? ("inline:" + key), fingerprint: identity.fingerprint, dimensions: width)
        }
        var vectors = cacheFile.flatMap { RouteCache.load(path: $0, key: key, count: texts.count, dimensions: width) }
        cacheHit = vectors != nil
        if vectors == nil {
            do {
                vectors = try TextEmbedder.vectors(texts, model: model, prompt: .literal(prompt), dimensions: width, progress: progress)
            } catch {
                guard case .model(let index?, let cause) = error else { throw error }
                let owner = owners[index]
                throw .invalidFile(path: routes.path ?? "routes", field: "routes[\(owner.route)].examples[\(owner.example)]",
                                   reason: "cannot be embedded: \(cause)")
            }
            if let cacheFile, let vectors {
                RouteCache.store(path: cacheFile, key: key, fingerprint: identity.fingerprint, dimensions: width, vectors: vectors)
            }
        }
        let all = vectors ?? []
        self.routes = routes
        self.options = options
        self.model = model
        self.identity = identity
        self.dimensions = width
        self.promptText = prompt
        self.vectors = all
        self.members = members
        sums = RouteScoring.sums(vectors: all, members: members)
        calibration = Self.calibrate(vectors: all, members: members, sums: sums, scoring: options.scoring, criterion: options.criterion)
    }

    /// The route of one query.
    /// - Throws: ``ClassifyError/model(index:_:)`` when the model cannot embed it.
    public func route(_ query: String) throws(ClassifyError) -> RouteMatch {
        try route([query])[0]
    }

    /// The routes of `queries`, embedded as one batch.
    public func route(_ queries: [String]) throws(ClassifyError) -> [RouteMatch] {
        let vectors = try TextEmbedder.vectors(queries, model: model, prompt: .literal(promptText), dimensions: dimensions,
                                               batchSize: max(1, queries.count))
        var matches: [RouteMatch] = []
        for vector in vectors { matches.append(try match(embedding: vector)) }
        return matches
    }

    /// The route of a query vector (of ``dimensions``, unit length, made with ``promptText``).
    /// - Throws: ``ClassifyError/widthMismatch(expected:got:)`` for another width.
    public func match(embedding: [Float]) throws(ClassifyError) -> RouteMatch {
        guard embedding.count == dimensions else { throw .widthMismatch(expected: dimensions, got: embedding.count) }
        let scores = options.scoring.scores(embedding, vectors: vectors, members: members, centroids: sums)
        let ranked = zip(routes.routes, scores).map { RouteScore(route: $0.name, score: $1) }
            .enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
            .map(\.element)
        let best = ranked[0]
        return RouteMatch(route: best.score >= threshold ? best.route : nil, score: best.score, nearest: best.route,
                          alternatives: Array(ranked.dropFirst().prefix(max(0, options.alternatives))), threshold: threshold)
    }

    /// Attaches `handler` to the route `name`; ``dispatch(_:)`` calls it for queries routed there.
    /// - Throws: ``ClassifyError/unknownRoute(name:available:)`` when there is no such route.
    public mutating func register(_ name: String, handler: @escaping Handler) throws(ClassifyError) {
        guard routes.routes.contains(where: { $0.name == name }) else {
            throw .unknownRoute(name: name, available: routes.routes.map(\.name))
        }
        handlers[name] = handler
    }

    /// Routes `query` and calls the handler of the route taken, if it has one.
    /// - Returns: the match (its ``RouteMatch/route`` is nil when no route was taken, and then no
    ///   handler runs).
    /// - Throws: ``ClassifyError`` when the query cannot be embedded; whatever the handler throws.
    @discardableResult
    public func dispatch(_ query: String) throws -> RouteMatch {
        let match = try route(query)
        if let name = match.route, let handler = handlers[name] {
            try handler(query)
        }
        return match
    }

    /// Whether `name` has a handler.
    public func hasHandler(_ name: String) -> Bool { handlers[name] != nil }

    /// Holds each example out in turn, routes it by the others and calibrates on the outcomes.
    static func calibrate(vectors: [[Float]], members: [[Int]], sums: [[Double]], scoring: RouteScoring,
                          criterion: CalibrationCriterion) -> RouteCalibration {
        var outcomes: [(score: Double, correct: Bool)] = []
        for (route, indices) in members.enumerated() {
            for i in indices {
                let scores = scoring.scores(vectors[i], vectors: vectors, members: members, centroids: sums, leavingOut: i)
                var best = 0
                for r in scores.indices where scores[r] > scores[best] { best = r }
                outcomes.append((scores[best], best == route && scores[best] > -Double.infinity))
            }
        }
        return RouteCalibration.calibrate(outcomes.map { ($0.score.isFinite ? $0.score : -1, $0.correct) }, criterion: criterion)
    }
}
