#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A sentence-transformers model folder: `config.json`, `model.safetensors`, `tokenizer.json`,
/// `modules.json` with its Pooling / Dense / Normalize modules, and the prompts of
/// `config_sentence_transformers.json`.
public struct ModelFolder: Sendable {
    /// One Dense module of the head.
    struct DenseModule: Sendable {
        let path: String
        let inFeatures: Int
        let outFeatures: Int
        let hasBias: Bool
    }

    /// The folder's path.
    public let path: String
    /// The backbone's configuration.
    public let config: GemmaConfig
    /// Named prompts (`query`, `document`, `STS`, ...).
    public let prompts: [String: String]
    /// Prompt applied when none is given; null for EmbeddingGemma.
    public let defaultPromptName: String?
    /// Longest input in tokens, special tokens included (2048).
    public let maxSequenceLength: Int
    let denseModules: [DenseModule]
    let normalizes: Bool

    /// Reads and validates the configuration files of the folder at `path`.
    public init(path: String) throws(EmbeddingGemmaError) {
        self.path = path
        guard ModelLocation.isFolder(path) else {
            throw .modelNotFound(path: path, hint: ModelLocation.fetchHint)
        }
        config = try Self.decode(GemmaConfig.self, at: path + "/config.json")
        try config.validate()

        let st = try Self.decodeOptional(SentenceTransformersConfig.self, at: path + "/config_sentence_transformers.json")
        prompts = st?.prompts ?? [:]
        defaultPromptName = st?.defaultPromptName
        let bert = try Self.decodeOptional(SentenceBertConfig.self, at: path + "/sentence_bert_config.json")
        maxSequenceLength = min(bert?.maxSeqLength ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings)

        let modules = try Self.decode([ModuleEntry].self, at: path + "/modules.json")
        var dense: [DenseModule] = []
        var sawPooling = false
        var normalizes = false
        for module in modules.sorted(by: { $0.idx < $1.idx }) {
            let folder = module.path.isEmpty ? path : path + "/" + module.path
            switch module.type {
            case "sentence_transformers.models.Transformer":
                continue
            case "sentence_transformers.models.Pooling":
                let pooling = try Self.decode(PoolingConfig.self, at: folder + "/config.json")
                guard pooling.poolingModeMeanTokens, !(pooling.poolingModeClsToken ?? false),
                      !(pooling.poolingModeMaxTokens ?? false), !(pooling.poolingModeLasttoken ?? false),
                      pooling.includePrompt ?? true else {
                    throw .unsupportedConfiguration("pooling other than mean over all tokens (prompt included)")
                }
                sawPooling = true
            case "sentence_transformers.models.Dense":
                let d = try Self.decode(DenseConfig.self, at: folder + "/config.json")
                guard d.activationFunction == nil || d.activationFunction?.hasSuffix("Identity") == true else {
                    throw .unsupportedConfiguration("Dense activation \(d.activationFunction ?? "")")
                }
                dense.append(DenseModule(path: folder, inFeatures: d.inFeatures, outFeatures: d.outFeatures, hasBias: d.bias ?? true))
            case "sentence_transformers.models.Normalize":
                normalizes = true
            default:
                throw .unsupportedConfiguration("sentence-transformers module \(module.type)")
            }
        }
        guard sawPooling else { throw .unsupportedConfiguration("modules.json has no mean Pooling module") }
        var width = config.hiddenSize
        for d in dense {
            guard d.inFeatures == width else {
                throw .unsupportedConfiguration("Dense module \(d.path) takes \(d.inFeatures) features, previous output is \(width)")
            }
            width = d.outFeatures
        }
        denseModules = dense
        self.normalizes = normalizes
    }

    /// A description of a model that is not a folder (a GGUF file at `path`), whose head is built elsewhere.
    init(path: String, config: GemmaConfig, prompts: [String: String], maxSequenceLength: Int, embeddingDimension: Int) {
        self.path = path
        self.config = config
        self.prompts = prompts
        defaultPromptName = nil
        self.maxSequenceLength = maxSequenceLength
        denseModules = []
        normalizes = true
        fixedEmbeddingDimension = embeddingDimension
    }

    /// The prompts of the published EmbeddingGemma checkpoint (`config_sentence_transformers.json`),
    /// used for GGUF files that do not carry their own.
    public static let embeddingGemmaPrompts: [String: String] = [
        "query": "task: search result | query: ",
        "document": "title: none | text: ",
        "BitextMining": "task: search result | query: ",
        "Clustering": "task: clustering | query: ",
        "Classification": "task: classification | query: ",
        "InstructionRetrieval": "task: code retrieval | query: ",
        "MultilabelClassification": "task: classification | query: ",
        "PairClassification": "task: sentence similarity | query: ",
        "Reranking": "task: search result | query: ",
        "Retrieval": "task: search result | query: ",
        "Retrieval-query": "task: search result | query: ",
        "Retrieval-document": "title: none | text: ",
        "STS": "task: sentence similarity | query: ",
        "Summarization": "task: summarization | query: ",
    ]

    /// Width of the final embedding (768 for EmbeddingGemma).
    public var embeddingDimension: Int { fixedEmbeddingDimension ?? denseModules.last?.outFeatures ?? config.hiddenSize }
    private var fixedEmbeddingDimension: Int? = nil

    private static func decode<T: Decodable>(_ type: T.Type, at file: String) throws(EmbeddingGemmaError) -> T {
        guard FileManager.default.fileExists(atPath: file) else {
            throw .modelNotFound(path: file, hint: "The model folder is incomplete. " + ModelLocation.fetchHint)
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .corruptModelFile(path: file, reason: "cannot read the file")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .corruptModelFile(path: file, reason: "unexpected JSON content (\(error))")
        }
    }

    private static func decodeOptional<T: Decodable>(_ type: T.Type, at file: String) throws(EmbeddingGemmaError) -> T? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return try decode(type, at: file)
    }
}

private struct SentenceTransformersConfig: Decodable {
    var prompts: [String: String]?
    var defaultPromptName: String?
    enum CodingKeys: String, CodingKey {
        case prompts
        case defaultPromptName = "default_prompt_name"
    }
}

private struct SentenceBertConfig: Decodable {
    var maxSeqLength: Int?
    enum CodingKeys: String, CodingKey { case maxSeqLength = "max_seq_length" }
}

private struct ModuleEntry: Decodable {
    var idx: Int
    var path: String
    var type: String
}

private struct PoolingConfig: Decodable {
    var poolingModeMeanTokens: Bool
    var poolingModeClsToken: Bool?
    var poolingModeMaxTokens: Bool?
    var poolingModeLasttoken: Bool?
    var includePrompt: Bool?
    enum CodingKeys: String, CodingKey {
        case poolingModeMeanTokens = "pooling_mode_mean_tokens"
        case poolingModeClsToken = "pooling_mode_cls_token"
        case poolingModeMaxTokens = "pooling_mode_max_tokens"
        case poolingModeLasttoken = "pooling_mode_lasttoken"
        case includePrompt = "include_prompt"
    }
}

private struct DenseConfig: Decodable {
    var inFeatures: Int
    var outFeatures: Int
    var bias: Bool?
    var activationFunction: String?
    enum CodingKeys: String, CodingKey {
        case inFeatures = "in_features"
        case outFeatures = "out_features"
        case bias
        case activationFunction = "activation_function"
    }
}
