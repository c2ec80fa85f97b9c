import EmbeddingGemma
import Foundation

/// The routes' example vectors on disk, so that they are embedded once per model, width, prompt
/// and set of examples. One file per routes file and model (under the cache directory); it is
/// used only when everything it was made from is unchanged, and replaced otherwise.
struct RouteCache: Codable {
    /// What the vectors were made from (SHA-256 over fingerprint, width, prompt and examples).
    var key: String
    var fingerprint: String
    var dimensions: Int
    var count: Int
    /// The vectors, float32 little-endian, base64.
    var vectors: String

    /// `~/.cache/embeddinggemma/routes` (or under `$XDG_CACHE_HOME`).
    static var defaultDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/embeddinggemma/routes" }
        return (environment["HOME"] ?? NSTemporaryDirectory()) + "/.cache/embeddinggemma/routes"
    }

    /// The key of a set of examples embedded by `model` at `dimensions` with `prompt`.
    static func key(fingerprint: String, dimensions: Int, prompt: String, examples: [String]) -> String {
        var hash = SHA256()
        hash.update(Array("\(fingerprint)\u{0}\(dimensions)\u{0}\(prompt)\u{0}".utf8))
        for example in examples { hash.update(Array((example + "\u{0}").utf8)) }
        return hash.finalizeHex()
    }

    /// The file for the routes at `location` embedded by the model of `fingerprint` at `dimensions`.
    static func file(directory: String, location: String, fingerprint: String, dimensions: Int) -> String {
        var hash = SHA256()
        hash.update(Array("\(location)\u{0}\(fingerprint)\u{0}\(dimensions)".utf8))
        return directory + "/" + String(hash.finalizeHex().prefix(24)) + ".json"
    }

    /// The cached vectors at `path` when they were made from `key`.
    static func load(path: String, key: String, count: Int, dimensions: Int) -> [[Float]]? {
        guard let data = FileManager.default.contents(atPath: path),
              let cache = try? JSONDecoder().decode(RouteCache.self, from: data),
              cache.key == key, cache.count == count, cache.dimensions == dimensions,
              let bytes = Data(base64Encoded: cache.vectors), bytes.count == count * dimensions * 4 else { return nil }
        var flat = [Float](repeating: 0, count: count * dimensions)
        flat.withUnsafeMutableBytes { target in
            bytes.withUnsafeBytes { source in
                for i in 0..<(count * dimensions) {
                    let bits = source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                    target.storeBytes(of: Float(bitPattern: UInt32(littleEndian: bits)), toByteOffset: i * 4, as: Float.self)
                }
            }
        }
        return (0..<count).map { Array(flat[($0 * dimensions)..<(($0 + 1) * dimensions)]) }
    }

    /// Writes `vectors` to `path`; false when it cannot (the cache is only a saving).
    @discardableResult
    static func store(path: String, key: String, fingerprint: String, dimensions: Int, vectors: [[Float]]) -> Bool {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vectors.count * dimensions * 4)
        for vector in vectors {
            for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        let cache = RouteCache(key: key, fingerprint: fingerprint, dimensions: dimensions, count: vectors.count,
                               vectors: Data(bytes).base64EncodedString())
        do {
            let directory = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try JSONEncoder().encode(cache).write(to: URL(fileURLWithPath: path), options: .atomic)
            return true
        } catch {
            return false
        }
    }
}
