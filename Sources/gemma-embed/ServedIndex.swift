import EmbeddingGemma
import Foundation
import GemmaSearch
import GemmaServer
import Logging

/// The index `serve` searches: `--index` (an error when it cannot be used), else the default
/// index when one exists (when it cannot be used, the server runs without it and its search
/// routes say why), made new when `--watch` asks for folders to be indexed.
struct ServedIndex {
    var source: IndexConfiguration.Source
    /// The model to serve: the index's (unless `--model` chose one), nil when there is no index.
    var model: EmbeddingModel?

    static func open(explicitPath: String?, defaultPath: String, watch: [String], modelOptions: ModelOptions, logger: Logger) throws -> ServedIndex {
        let path = explicitPath ?? defaultPath
        let exists = PostgresLocation.isDatabaseURL(path) || FileManager.default.fileExists(atPath: path)
        guard exists || !watch.isEmpty else {
            if let explicitPath { throw SearchError.indexNotFound(path: URL(fileURLWithPath: explicitPath).standardizedFileURL.path).cliError }
            return ServedIndex(source: .unavailable(reason: "no index at \(path); start the server with --index FILE (and --watch FOLDER to build it)"), model: nil)
        }
        do {
            let choice: IndexModel
            if modelOptions.model != nil || modelOptions.quantization != nil {
                choice = .given(try modelOptions.load())
            } else {
                let rawPooled = modelOptions.rawPooled
                choice = .recorded(orNew: { () throws(EmbeddingGemmaError) in try EmbeddingModel(allowMissingHead: rawPooled) })
            }
            let index = try SemanticIndex(path: path, model: choice, create: !watch.isEmpty)
            return ServedIndex(source: .index(index), model: index.model)
        } catch let error as SearchError {
            if explicitPath != nil || !watch.isEmpty { throw error.cliError }
            logger.warning("not searching the default index \(path): \(error.cliError.description)")
            return ServedIndex(source: .unavailable(reason: error.description), model: nil)
        }
    }
}
