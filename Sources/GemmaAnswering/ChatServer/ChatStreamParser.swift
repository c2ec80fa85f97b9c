/// Reads a streamed chat answer line by line, in the formats of ``ChatWire``: OpenAI's
/// server-sent events (`data: {chunk}` … `data: [DONE]`) or Ollama's NDJSON
/// (`{"message": {...}, "done": false}` … `"done": true`).
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
    ///   ``ChatServerFailure/notJSON(_:)`` for a line that is not JSON of the API's shape.
    mutating func read(_ rawLine: String) throws(ChatServerFailure) -> String? {
        let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : rawLine
        guard !line.isEmpty else { return nil }
        let payload: String
        switch api {
        case .openAI:
            // Comments (`: keep-alive`) and other fields (`event:`, `id:`) carry no text.
            guard line.hasPrefix(ChatWire.eventField) else { return nil }
            payload = line.dropFirst(ChatWire.eventField.count).drop { $0 == " " }.description
            if payload == ChatWire.doneMarker {
                finished = true
                return nil
            }
        case .ollama:
            payload = line
        }
        if let error = try? ChatWire.decode(ChatStreamError.self, from: payload) { throw .errorInStream(error.message) }
        do {
            switch api {
            case .openAI:
                return read(try ChatWire.decode(OpenAIChatChunk.self, from: payload))
            case .ollama:
                return read(try ChatWire.decode(OllamaStreamLine.self, from: payload))
            }
        } catch {
            throw .notJSON(String(payload.prefix(200)))
        }
    }

    private mutating func read(_ chunk: OpenAIChatChunk) -> String? {
        if let usage = chunk.usage {
            promptTokens = usage.promptTokens
            generatedTokens = usage.completionTokens
        }
        guard let choice = chunk.choices.first else { return nil }
        if let reason = choice.finishReason { stopReason = Self.stopReason(reason) }
        text += choice.delta.content ?? ""
        return choice.delta.content
    }

    private mutating func read(_ line: OllamaStreamLine) -> String? {
        let piece = line.message?.content
        text += piece ?? ""
        if line.done {
            finished = true
            promptTokens = line.promptEvalCount
            generatedTokens = line.evalCount
            if let reason = line.doneReason { stopReason = Self.stopReason(reason) }
        }
        return piece
    }

    /// `end` for the model finishing (`stop`), else the server's word.
    private static func stopReason(_ reason: String) -> String {
        reason == "stop" ? "end" : reason
    }
}
