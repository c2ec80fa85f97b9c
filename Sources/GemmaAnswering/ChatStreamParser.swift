import Foundation

/// Reads a streamed chat answer line by line: OpenAI's server-sent events (`data: {chunk}` …
/// `data: [DONE]`) or Ollama's NDJSON (`{"message": {...}, "done": false}` … `"done": true`).
struct ChatStreamParser {
    let api: ChatServerGenerator.API
    /// The text so far.
    private(set) var text = ""
    /// Whether the stream's end marker arrived (`[DONE]`, or `"done": true`).
    private(set) var finished = false
    private(set) var promptTokens: Int?
    private(set) var generatedTokens: Int?
    private(set) var stopReason: String?

    init(api: ChatServerGenerator.API) {
        self.api = api
    }

    /// Reads one line; returns the new text it carries.
    /// - Throws: ``ChatServerFailure/errorInStream(_:)`` for an error event,
    ///   ``ChatServerFailure/notJSON(_:)`` for a line that is not JSON.
    mutating func read(_ rawLine: String) throws(ChatServerFailure) -> String? {
        let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : rawLine
        guard !line.isEmpty else { return nil }
        let payload: String
        switch api {
        case .openAI:
            // Comments (`: keep-alive`) and other fields (`event:`, `id:`) carry no text.
            guard line.hasPrefix("data:") else { return nil }
            payload = line.dropFirst(5).drop { $0 == " " }.description
            if payload == "[DONE]" {
                finished = true
                return nil
            }
        case .ollama:
            payload = line
        }
        guard let data = payload.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .notJSON(String(payload.prefix(200)))
        }
        if let error = object["error"] {
            let message = (error as? String) ?? ((error as? [String: Any])?["message"] as? String) ?? "\(error)"
            throw .errorInStream(message)
        }
        switch api {
        case .openAI:
            if let usage = object["usage"] as? [String: Any] {
                promptTokens = usage["prompt_tokens"] as? Int
                generatedTokens = usage["completion_tokens"] as? Int
            }
            guard let choice = (object["choices"] as? [[String: Any]])?.first else { return nil }
            if let reason = choice["finish_reason"] as? String { stopReason = reason == "stop" ? "end" : reason }
            let piece = (choice["delta"] as? [String: Any])?["content"] as? String
            text += piece ?? ""
            return piece
        case .ollama:
            let piece = (object["message"] as? [String: Any])?["content"] as? String
            text += piece ?? ""
            if object["done"] as? Bool == true {
                finished = true
                promptTokens = object["prompt_eval_count"] as? Int
                generatedTokens = object["eval_count"] as? Int
                if let reason = object["done_reason"] as? String { stopReason = reason == "stop" ? "end" : reason }
            }
            return piece
        }
    }
}
