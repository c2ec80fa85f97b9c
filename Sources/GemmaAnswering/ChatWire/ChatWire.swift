import Foundation

/// The framing of the two streamed chat formats, shared by the server that writes them
/// (GemmaServer's `/v1/chat/completions`, `/api/chat`, `/api/generate`) and the client that reads
/// them (``ChatServerGenerator``):
///
/// - OpenAI's server-sent events: `data: {json}` and a blank line per ``OpenAIChatChunk``, the
///   stream ended by `data: [DONE]`;
/// - Ollama's NDJSON: one ``OllamaStreamLine`` per line, the last one `"done": true`.
///
/// An error after the stream has started is a ``ChatStreamError`` in either framing.
public enum ChatWire {
    /// The field of a server-sent event that carries a payload (readers allow any spaces after it).
    public static let eventField = "data:"
    /// What starts the payload of a server-sent event as written.
    public static let eventPrefix = eventField + " "
    /// The payload of the event that ends an OpenAI stream.
    public static let doneMarker = "[DONE]"

    /// The JSON of `value` as every response of the server writes it (`/` unescaped), or `{}` for
    /// a value JSON cannot hold (a non-finite number).
    public static func json(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// One server-sent event carrying `value`: `data: {json}` and a blank line.
    public static func event(_ value: some Encodable) -> Data {
        Data(eventPrefix.utf8) + json(value) + Data("\n\n".utf8)
    }

    /// The event that ends an OpenAI stream: `data: [DONE]` and a blank line.
    public static var doneEvent: Data { Data((eventPrefix + doneMarker + "\n\n").utf8) }

    /// One NDJSON line carrying `value`: its JSON and a newline.
    public static func line(_ value: some Encodable) -> Data {
        json(value) + Data("\n".utf8)
    }

    /// `T` decoded from the JSON `payload` of an event or a line.
    public static func decode<T: Decodable>(_ type: T.Type, from payload: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(payload.utf8))
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or nil when it is missing, null or of another type: what one
    /// OpenAI-compatible server sends another may leave out.
    func lenient<T: Decodable>(_ type: T.Type, forKey key: Key) -> T? {
        (try? decodeIfPresent(T.self, forKey: key)) ?? nil
    }
}
