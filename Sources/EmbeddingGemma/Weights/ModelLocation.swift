#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a model folder from what a user typed: a path, a Hugging Face Hub id that is already
/// in the local Hugging Face cache, or nothing (then `$EMBEDDINGGEMMA_MODEL`, then the default
/// cache folder that `scripts/fetch-model.sh` fills). Never touches the network.
public enum ModelLocation {
    /// The Hugging Face Hub id of the model this engine runs.
    public static let hubIdentifier = "google/embeddinggemma-300m"

    /// SHA-256 of `model.safetensors` of the published float32 sentence-transformers checkpoint.
    public static let publishedSHA256 = "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"

    /// What to do when no model is found.
    public static let fetchHint = "Fetch it with scripts/fetch-model.sh (or name a sentence-transformers folder of google/embeddinggemma-300m, or set EMBEDDINGGEMMA_MODEL to one)."

    /// `~/.cache/embeddinggemma/embeddinggemma-300m`.
    public static var defaultPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? homeDirectory()
        return home + "/.cache/embeddinggemma/embeddinggemma-300m"
    }

    /// Resolves `specifier` (nil: environment, then default) to an existing folder or (GGUF) file.
    public static func resolve(_ specifier: String?) throws(EmbeddingGemmaError) -> String {
        let environment = ProcessInfo.processInfo.environment
        let requested = specifier ?? environment["EMBEDDINGGEMMA_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPath
        if FileManager.default.fileExists(atPath: requested) {
            return requested
        }
        if let cached = hubSnapshot(for: requested, environment: environment) {
            return cached
        }
        throw .modelNotFound(path: requested, hint: fetchHint)
    }

    /// Whether `path` names an existing directory (a model folder rather than a file).
    public static func isFolder(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFDIR
    }

    /// The current user's home directory when `$HOME` is unset.
    private static func homeDirectory() -> String {
        #if canImport(FoundationEssentials)
        FileManager.default.homeDirectoryForCurrentUser.path
        #else
        NSHomeDirectory()
        #endif
    }

    /// The newest snapshot of Hub id `identifier` ("owner/name") in the local Hugging Face cache.
    static func hubSnapshot(for identifier: String, environment: [String: String]) -> String? {
        let parts = identifier.split(separator: "/")
        guard parts.count == 2, !identifier.hasPrefix("/"), !identifier.hasPrefix(".") else { return nil }
        let home = environment["HOME"] ?? homeDirectory()
        let hubCache = environment["HF_HUB_CACHE"]
            ?? environment["HF_HOME"].map { $0 + "/hub" }
            ?? home + "/.cache/huggingface/hub"
        let repo = hubCache + "/models--\(parts[0])--\(parts[1])"
        let fm = FileManager.default
        if let ref = fm.contents(atPath: repo + "/refs/main").flatMap({ String(data: $0, encoding: .utf8) }) {
            let snapshot = repo + "/snapshots/" + ref.filter { !$0.isWhitespace }
            if fm.fileExists(atPath: snapshot + "/config.json") { return snapshot }
        }
        guard let snapshots = try? fm.contentsOfDirectory(atPath: repo + "/snapshots") else { return nil }
        return snapshots.sorted().map { repo + "/snapshots/" + $0 }.first { fm.fileExists(atPath: $0 + "/config.json") }
    }
}
