import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
@testable import GemmaClassify
import Synchronization
import Testing

/// Routes files, scoring, the cache, the threshold and handlers, on the tiny model.
@Suite("Router on a tiny model")
struct RouterTests {
    static var model: EmbeddingModel { ClassifierTests.model }

    static func options(_ cache: String?, scoring: RouteScoring = .nearestExample) -> RouterOptions {
        RouterOptions(prompt: .named("query"), scoring: scoring, cacheDirectory: cache)
    }

    static func routesFile(threshold: String = "null", extra: String = "") throws -> String {
        let path = ClassifierTests.temporary("routes.json")
        try """
        {"routes": [
          {"name": "letters", "description": "spell", "examples": ["abc abc", "ab ab ab", "abc ab"\(extra)]},
          {"name": "greeting", "examples": ["hi hi", "hi there", "hi"]}
        ], "threshold": \(threshold)}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a query equal to an example scores 1 for its route; alternatives follow; the threshold decides")
    func routing() throws {
        let router = try Router(contentsOf: try Self.routesFile(threshold: "-1"), model: Self.model, options: Self.options(nil))
        let match = try router.route("hi there")
        #expect(match.route == "greeting" && match.nearest == "greeting")
        #expect(abs(match.score - 1) < 1e-5)
        #expect(match.alternatives.map(\.route) == ["letters"])
        #expect(match.threshold == -1)
        let strict = try Router(contentsOf: try Self.routesFile(threshold: "1"), model: Self.model, options: Self.options(nil))
        let none = try strict.route("aa bb")
        #expect(none.route == nil && none.nearest != "")
        // Centroid scoring: the query against each route's mean.
        let centroid = try Router(contentsOf: try Self.routesFile(threshold: "-1"), model: Self.model, options: Self.options(nil, scoring: .centroid))
        let vectors = try Self.model.encode(["hi hi", "hi there", "hi", "hi there"], prompt: .named("query"))
        var mean = [Float](repeating: 0, count: vectors[0].count)
        for v in vectors.prefix(3) { for f in mean.indices { mean[f] += v[f] } }
        let expected = Double(VectorMath.cosine(mean, vectors[3]))
        let result = try centroid.route("hi there")
        let all = Dictionary(uniqueKeysWithValues: ([RouteScore(route: result.nearest, score: result.score)] + result.alternatives)
            .map { ($0.route, $0.score) })
        let scores = [all["greeting"] ?? 0]
        #expect(abs(scores[0] - expected) < 1e-5)
    }

    @Test("calibration holds each example out: the threshold is a point of its curve")
    func calibration() throws {
        let router = try Router(contentsOf: try Self.routesFile(), model: Self.model, options: Self.options(nil))
        #expect(router.calibration.examples == 6)
        #expect(router.calibration.curve.contains(router.calibration.chosen))
        #expect(router.threshold == router.calibration.threshold)
        #expect(router.calibration.curve.last?.coverage == 1)
    }

    @Test("example vectors are cached with the model and reused until the examples change")
    func cache() throws {
        let directory = ClassifierTests.temporary("cache")
        let path = try Self.routesFile()
        let first = try Router(contentsOf: path, model: Self.model, options: Self.options(directory))
        #expect(!first.cacheHit)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 1)
        let second = try Router(contentsOf: path, model: Self.model, options: Self.options(directory))
        #expect(second.cacheHit)
        #expect(second.vectors == first.vectors)
        #expect(try second.route("hi") == first.route("hi"))
        // Another width of the same routes is another file; changed examples invalidate the entry.
        try """
        {"routes": [{"name": "letters", "examples": ["abc abc", "ab"]}, {"name": "greeting", "examples": ["hi hi", "hi there"]}]}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let changed = try Router(contentsOf: path, model: Self.model, options: Self.options(directory))
        #expect(!changed.cacheHit)
        #expect(try Router(contentsOf: path, model: Self.model, options: Self.options(directory)).cacheHit)
    }

    @Test("register attaches a handler; dispatch calls the one of the route taken, and none when no route is taken")
    func handlers() throws {
        var router = try Router(contentsOf: try Self.routesFile(threshold: "0.999"), model: Self.model, options: Self.options(nil))
        let calls = Mutex<[String]>([])
        try router.register("greeting") { query in calls.withLock { $0.append("greeting:" + query) } }
        try router.register("letters") { query in calls.withLock { $0.append("letters:" + query) } }
        #expect(throws: ClassifyError.unknownRoute(name: "lights_off", available: ["letters", "greeting"])) {
            try router.register("lights_off") { _ in }
        }
        #expect(try router.dispatch("hi there").route == "greeting")
        #expect(try router.dispatch("abc ab").route == "letters")
        let none = try router.dispatch("zzz 42 q")
        #expect(none.route == nil)
        #expect(calls.withLock { $0 } == ["greeting:hi there", "letters:abc ab"])
        #expect(router.hasHandler("greeting"))
    }

    @Test("bad routes files name the field; duplicate names are refused")
    func badRoutes() throws {
        let path = ClassifierTests.temporary("bad-routes.json")
        func check(_ json: String, _ expected: ClassifyError) throws {
            try json.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: expected) { try RouteSet.read(path: path) }
        }
        try check(#"[]"#, .invalidFile(path: path, field: "(top level)", reason: "must be an object {\"routes\": [...], \"threshold\": ...}"))
        try check(#"{"threshold": 0.5}"#, .invalidFile(path: path, field: "routes", reason: "is missing"))
        try check(#"{"routes": {}}"#, .invalidFile(path: path, field: "routes", reason: "must be an array of routes"))
        try check(#"{"routes": []}"#, .invalidFile(path: path, field: "routes", reason: "holds no route"))
        try check(#"{"routes": [{"examples": ["a"]}]}"#, .invalidFile(path: path, field: "routes[0].name", reason: "is missing"))
        try check(#"{"routes": [{"name": "a", "examples": ["x"]}, {"name": "b", "examples": "x"}]}"#,
                  .invalidFile(path: path, field: "routes[1].examples", reason: "must be an array of strings"))
        try check(#"{"routes": [{"name": "a", "examples": ["x", 3]}]}"#,
                  .invalidFile(path: path, field: "routes[0].examples[1]", reason: "must be a string"))
        try check(#"{"routes": [{"name": "a", "examples": []}]}"#, .invalidFile(path: path, field: "routes[0].examples", reason: "holds no example"))
        try check(#"{"routes": [{"name": "a", "examples": [" "]}]}"#, .invalidFile(path: path, field: "routes[0].examples[0]", reason: "is empty"))
        try check(#"{"routes": [{"name": "a", "examples": ["x"]}, {"name": "b", "examples": ["y"]}, {"name": "a", "examples": ["z"]}]}"#,
                  .duplicateRoute(name: "a", first: 0, second: 2))
        try check(#"{"routes": [{"name": "a", "examples": ["x"]}], "threshold": "high"}"#,
                  .invalidFile(path: path, field: "threshold", reason: "must be a number or null"))
        try check(#"{"routes": [{"name": "a", "examples": ["x"]}], "threshold": 2}"#,
                  .invalidFile(path: path, field: "threshold", reason: "must be a cosine between -1 and 1 (got 2.0)"))
        try check("{", .file(path: path, reason: "not valid JSON"))
    }
}
