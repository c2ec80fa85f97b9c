import EmbeddingGemma
import GemmaClassify

/// The classifiers and the router the server answers `/api/classify` and `/api/route` with.
public struct ServerClassification: Sendable {
    /// Classifiers by the name requests use (`"classifier": NAME`).
    public var classifiers: [String: Classifier]
    /// The router of `/api/route`, if any.
    public var router: Router?

    /// No classifier, no router: both routes answer 400.
    public init() {
        classifiers = [:]
        router = nil
    }

    /// Classifiers and a router made already (each classifier must have been trained with the
    /// server's model: ``load(classifiers:routes:model:routerOptions:)`` checks that).
    public init(classifiers: [String: Classifier], router: Router?) {
        self.classifiers = classifiers
        self.router = router
    }

    /// Reads classifier files (by name) and a routes file for `model`.
    /// - Throws: ``GemmaClassify/ClassifyError`` for a file that does not read, or a classifier
    ///   trained with another model (``GemmaClassify/ClassifyError/modelMismatch(stored:given:)``).
    public static func load(classifiers files: [String: String], routes: String?, model: EmbeddingModel,
                            routerOptions: RouterOptions = RouterOptions()) throws(ClassifyError) -> ServerClassification {
        var classifiers: [String: Classifier] = [:]
        for (name, path) in files {
            classifiers[name] = try Classifier(contentsOf: path, model: model)
        }
        let router = try routes.map { path throws(ClassifyError) in try Router(contentsOf: path, model: model, options: routerOptions) }
        return ServerClassification(classifiers: classifiers, router: router)
    }
}
