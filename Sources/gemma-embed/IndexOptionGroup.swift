import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaSearch

/// `--index FILE`, shared by `index` and `search`.
struct IndexOptionGroup: ParsableArguments {
    @Option(name: .long, help: "The index file (default: $GEMMA_EMBED_INDEX, else ~/.local/share/gemma-embed/index.sqlite).")
    var index: String?

    /// The index file to use.
    var path: String {
        index ?? Self.defaultPath
    }

    /// $GEMMA_EMBED_INDEX, else the index under $XDG_DATA_HOME (or ~/.local/share).
    static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let fromEnvironment = environment["GEMMA_EMBED_INDEX"], !fromEnvironment.isEmpty { return fromEnvironment }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path) + "/.local/share"
        return data + "/gemma-embed/index.sqlite"
    }
}
