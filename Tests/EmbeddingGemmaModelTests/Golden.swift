import Foundation
@testable import EmbeddingGemma

/// Access to the reference data in `../shared/golden` (override with `GOLDEN_DIR`) and to the
/// real model (fetched by `scripts/fetch-model.sh`; override with `EMBEDDINGGEMMA_MODEL`).
enum Golden {
    /// The golden folder, if present.
    static let directory: String? = {
        if let dir = ProcessInfo.processInfo.environment["GOLDEN_DIR"] { return dir }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/golden").path
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }()

    /// Whether CI demands the model (then a missing model fails instead of skipping).
    static let modelRequired = ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1"

    /// Whether the model and the golden data are both present (or required, so that the tests fail loudly).
    /// Whether the model is present (or required).
    static let modelAvailable: Bool = modelRequired || (try? ModelLocation.resolve(nil)) != nil

    static let available: Bool = {
        if modelRequired { return true }
        return directory != nil && (try? ModelLocation.resolve(nil)) != nil
    }()

    /// The model, loaded once for all tests.
    static let model: Result<EmbeddingModel, EmbeddingGemmaError> = Result { () throws(EmbeddingGemmaError) in try EmbeddingModel() }

    static func loadModel() throws -> EmbeddingModel {
        try model.get()
    }

    static func path(_ name: String) throws -> String {
        guard let directory else { throw GoldenError("golden data folder ../shared/golden not found (set GOLDEN_DIR)") }
        return directory + "/" + name
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try path(name)))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw GoldenError("\(name) is not a JSON object")
        }
        return object
    }

    static func jsonLines(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: try path(name), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw GoldenError("\(name): a line is not a JSON object")
            }
            return object
        }
    }

    /// Little-endian float32 values from base64.
    static func floats(base64: String) throws -> [Float] {
        guard let data = Data(base64Encoded: base64), data.count % 4 == 0 else { throw GoldenError("bad base64 vector") }
        let bytes = [UInt8](data)
        var values: [Float] = []
        for i in stride(from: 0, to: bytes.count, by: 4) {
            var bits = UInt32(bytes[i])
            bits |= UInt32(bytes[i + 1]) << 8
            bits |= UInt32(bytes[i + 2]) << 16
            bits |= UInt32(bytes[i + 3]) << 24
            values.append(Float(bitPattern: bits))
        }
        return values
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<min(a.count, b.count) {
            ab += Double(a[i]) * Double(b[i])
            aa += Double(a[i]) * Double(a[i])
            bb += Double(b[i]) * Double(b[i])
        }
        return ab / (aa.squareRoot() * bb.squareRoot())
    }
}

struct GoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
