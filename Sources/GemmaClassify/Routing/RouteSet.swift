import Foundation

/// One route: a name (what the application does), what it is for, and example queries.
public struct RouteDefinition: Sendable, Hashable, Codable {
    /// The route's name, unique in its set (`lights_off`).
    public var name: String
    /// What the route does (for people; not embedded).
    public var description: String?
    /// Queries that should take this route, in any language.
    public var examples: [String]

    public init(name: String, description: String? = nil, examples: [String]) {
        self.name = name
        self.description = description
        self.examples = examples
    }
}

/// A routes file: `{"routes": [{"name", "description", "examples": [...]}], "threshold": …}`.
/// Without a threshold (or with `null`) the router calibrates one from the examples.
public struct RouteSet: Sendable, Hashable {
    /// The routes, in file order.
    public var routes: [RouteDefinition]
    /// The least score that takes a route; nil to calibrate it.
    public var threshold: Double?
    /// The file it was read from, if any (the cache is kept per file).
    public var path: String?

    /// Checks and keeps `routes`.
    /// - Throws: ``ClassifyError/duplicateRoute(name:first:second:)``, or
    ///   ``ClassifyError/invalidFile(path:field:reason:)`` for an empty name, a route without
    ///   examples, an empty example or a threshold outside -1...1.
    public init(routes: [RouteDefinition], threshold: Double? = nil, path: String? = nil) throws(ClassifyError) {
        let where_ = path ?? "routes"
        guard !routes.isEmpty else { throw .invalidFile(path: where_, field: "routes", reason: "holds no route") }
        var seen: [String: Int] = [:]
        for (index, route) in routes.enumerated() {
            guard !route.name.allSatisfy(\.isWhitespace) else {
                throw .invalidFile(path: where_, field: "routes[\(index)].name", reason: "is empty")
            }
            if let first = seen[route.name] { throw .duplicateRoute(name: route.name, first: first, second: index) }
            seen[route.name] = index
            guard !route.examples.isEmpty else {
                throw .invalidFile(path: where_, field: "routes[\(index)].examples", reason: "holds no example")
            }
            for (number, example) in route.examples.enumerated() where example.allSatisfy(\.isWhitespace) {
                throw .invalidFile(path: where_, field: "routes[\(index)].examples[\(number)]", reason: "is empty")
            }
        }
        if let threshold, !(-1...1).contains(threshold) {
            throw .invalidFile(path: where_, field: "threshold", reason: "must be a cosine between -1 and 1 (got \(threshold))")
        }
        self.routes = routes
        self.threshold = threshold
        self.path = path
    }

    /// Reads a routes file.
    /// - Throws: ``ClassifyError/file(path:reason:)``, ``ClassifyError/invalidFile(path:field:reason:)``
    ///   naming the field of the wrong shape, ``ClassifyError/duplicateRoute(name:first:second:)``.
    public static func read(path: String) throws(ClassifyError) -> RouteSet {
        guard let data = FileManager.default.contents(atPath: path) else { throw .file(path: path, reason: "cannot read the file") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .file(path: path, reason: "not valid JSON")
        }
        guard let top = object as? [String: Any] else {
            throw .invalidFile(path: path, field: "(top level)", reason: "must be an object {\"routes\": [...], \"threshold\": ...}")
        }
        guard let list = top["routes"] as? [Any] else {
            throw .invalidFile(path: path, field: "routes", reason: top["routes"] == nil ? "is missing" : "must be an array of routes")
        }
        var routes: [RouteDefinition] = []
        for (index, entry) in list.enumerated() {
            guard let fields = entry as? [String: Any] else {
                throw .invalidFile(path: path, field: "routes[\(index)]", reason: "must be an object {\"name\", \"description\", \"examples\"}")
            }
            guard let name = fields["name"] as? String else {
                throw .invalidFile(path: path, field: "routes[\(index)].name", reason: fields["name"] == nil ? "is missing" : "must be a string")
            }
            var description: String?
            if let value = fields["description"], !(value is NSNull) {
                guard let text = value as? String else {
                    throw .invalidFile(path: path, field: "routes[\(index)].description", reason: "must be a string")
                }
                description = text
            }
            guard let examples = fields["examples"] as? [Any] else {
                throw .invalidFile(path: path, field: "routes[\(index)].examples",
                                   reason: fields["examples"] == nil ? "is missing" : "must be an array of strings")
            }
            var texts: [String] = []
            for (number, example) in examples.enumerated() {
                guard let text = example as? String else {
                    throw .invalidFile(path: path, field: "routes[\(index)].examples[\(number)]", reason: "must be a string")
                }
                texts.append(text)
            }
            routes.append(RouteDefinition(name: name, description: description, examples: texts))
        }
        var threshold: Double?
        if let value = top["threshold"], !(value is NSNull) {
            guard let number = value as? Double else {
                throw .invalidFile(path: path, field: "threshold", reason: "must be a number or null")
            }
            threshold = number
        }
        return try RouteSet(routes: routes, threshold: threshold, path: path)
    }
}
