import Foundation
import EmbeddingGemma

/// How a request chooses the task prompt. Fields in the body win, in this order: `prompt` (a
/// literal prefix; `""` for none), `prompt_name` (a prompt of the model: `query`, `document`,
/// `STS`, `Classification`, ...), `title` (the document prompt with that title). Clients that
/// cannot add fields name the prompt after the model name's last `:` — `embeddinggemma:query`,
/// `embeddinggemma:document`, `embeddinggemma:STS` — (any other tag, such as `:latest`, means no
/// prompt). Without any of these, no prompt is applied, as in the reference.
struct PromptSelection: Sendable {
    var literal: String?
    var name: String?
    var title: String?
    var model: String?

    /// The prompt for `model`'s prompts.
    func resolve(_ embedding: EmbeddingModel) throws(APIError) -> Prompt {
        if let literal { return literal.isEmpty ? .none : .literal(literal) }
        if let name {
            guard embedding.prompts[name] != nil else {
                throw APIError(.badRequest, "unknown prompt_name '\(name)'; this model has \(embedding.prompts.keys.sorted().joined(separator: ", "))",
                               param: "prompt_name")
            }
            if let title, name == "document" { return try documentPrompt(title, embedding) }
            return .named(name)
        }
        if let title { return try documentPrompt(title, embedding) }
        if let model, let colon = model.lastIndex(of: ":") {
            let tag = model[model.index(after: colon)...]
            if let match = embedding.prompts.keys.first(where: { $0.caseInsensitiveCompare(tag) == .orderedSame }) {
                return .named(match)
            }
        }
        return .none
    }

    private func documentPrompt(_ title: String, _ embedding: EmbeddingModel) throws(APIError) -> Prompt {
        do { return try embedding.documentPrompt(title: title) } catch {
            throw APIError(.badRequest, error.description, param: "title")
        }
    }
}

/// A request body with the prompt-choosing fields (`model`, `prompt`, `prompt_name`, `title`).
protocol PromptFields {
    var model: String? { get }
    var prompt: String? { get }
    var prompt_name: String? { get }
    var title: String? { get }
}

extension PromptFields {
    /// The body's prompt choice.
    var promptSelection: PromptSelection {
        PromptSelection(literal: prompt, name: prompt_name, title: title, model: model)
    }
}
