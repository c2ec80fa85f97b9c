/// A route's score for a query.
public struct RouteScore: Sendable, Hashable, Codable {
    /// The route's name.
    public var route: String
    /// Its score (a cosine, see ``RouteScoring``).
    public var score: Double

    public init(route: String, score: Double) {
        self.route = route
        self.score = score
    }
}

/// Where a query goes: the best route when its score reaches the threshold, else none.
public struct RouteMatch: Sendable, Hashable {
    /// The route taken, nil when no route is close enough.
    public var route: String?
    /// The best route's score (whether taken or not).
    public var score: Double
    /// The closest route, taken or not.
    public var nearest: String
    /// The next routes, best first.
    public var alternatives: [RouteScore]
    /// The threshold the score was held to.
    public var threshold: Double
}
