import ArgumentParser
import EmbeddingGemma
import GemmaClassify
import GemmaServer

extension ServeCommand {
    /// The `--classifier NAME=FILE` pairs, checked.
    func classifierFiles() throws -> [String: String] {
        var files: [String: String] = [:]
        for value in classifiers {
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex, value.index(after: equals) != value.endIndex else {
                throw ValidationError("--classifier takes NAME=FILE (got '\(value)')")
            }
            let name = String(value[..<equals])
            guard files[name] == nil else { throw ValidationError("--classifier: the name '\(name)' is given twice") }
            files[name] = String(value[value.index(after: equals)...])
        }
        return files
    }

    /// The classifiers and router to serve, read and checked against `model`.
    func classification(model: EmbeddingModel) throws -> ServerClassification {
        let files = try classifierFiles()
        do {
            return try ServerClassification.load(classifiers: files, routes: routes, model: model,
                                                 routerOptions: RouterOptions(dimensions: routeDimensions))
        } catch {
            throw error.cliError
        }
    }
}
