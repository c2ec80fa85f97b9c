import EmbeddingGemma
import Foundation
@testable import GemmaAnswering
import GemmaSearch
import Testing

/// The chat wire format: the bytes the server writes with ``ChatWire`` have the keys OpenAI and
/// Ollama clients read, and ``ChatStreamParser`` reads them back (fast tier, no weights).
@Suite("Chat wire format")
struct ChatWireTests {
    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Feeds `bytes` to a parser line by line, as ``ChatServerGenerator`` does; returns the pieces.
    static func parse(_ bytes: Data, api: ChatServerGenerator.API) throws(ChatServerFailure) -> (ChatStreamParser, [String]) {
        var parser = ChatStreamParser(api: api)
        var pieces: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if let piece = try parser.read(String(line)), !piece.isEmpty { pieces.append(piece) }
        }
        return (parser, pieces)
    }

    @Test("an OpenAI stream as the server writes it: keys, nulls, the usage chunk, [DONE]; the parser reads its text, counts and stop")
    func openAIStream() throws {
        func chunk(_ delta: OpenAIChatChunk.Delta, _ finish: String?) -> OpenAIChatChunk {
            OpenAIChatChunk(id: "chatcmpl-1", created: 1_767_225_600, model: "gemma3", choices: [.init(delta: delta, finishReason: finish)])
        }
        var stream = ChatWire.event(chunk(.init(role: "assistant", content: ""), nil))
        for piece in ["Blue", ", green", " and \"red\" / ✓"] { stream += ChatWire.event(chunk(.init(content: piece), nil)) }
        stream += ChatWire.event(chunk(.init(), "length"))
        stream += ChatWire.event(OpenAIChatChunk(id: "chatcmpl-1", created: 1_767_225_600, model: "gemma3", choices: [],
                                                 usage: OpenAIChatUsage(promptTokens: 11, completionTokens: 3)))
        stream += ChatWire.doneEvent

        let events = String(decoding: stream, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.count == 7 && events.last == "data: [DONE]")
        #expect(events[3].contains(#"" and \"red\" / ✓""#), "slashes unescaped: \(events[3])")
        let first = try Self.object(Data(events[0].dropFirst(6).utf8))
        #expect(Set(first.keys) == ["id", "object", "created", "model", "choices"])
        #expect(first["object"] as? String == "chat.completion.chunk" && first["created"] as? Int == 1_767_225_600)
        let choice = try #require((first["choices"] as? [[String: Any]])?.first)
        #expect(Set(choice.keys) == ["index", "delta", "logprobs", "finish_reason"])
        #expect(choice["logprobs"] is NSNull && choice["finish_reason"] is NSNull)
        #expect((choice["delta"] as? [String: String]) == ["role": "assistant", "content": ""])
        let finish = try #require((try Self.object(Data(events[4].dropFirst(6).utf8))["choices"] as? [[String: Any]])?.first)
        #expect((finish["delta"] as? [String: Any])?.isEmpty == true && finish["finish_reason"] as? String == "length")
        let usage = try Self.object(Data(events[5].dropFirst(6).utf8))
        #expect((usage["choices"] as? [Any])?.isEmpty == true)
        #expect(usage["usage"] as? [String: Int] == ["prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14])

        let (parser, pieces) = try Self.parse(stream, api: .openAI)
        #expect(pieces == ["Blue", ", green", " and \"red\" / ✓"])
        #expect(parser.text == "Blue, green and \"red\" / ✓" && parser.finished)
        #expect(parser.promptTokens == 11 && parser.generatedTokens == 3 && parser.stopReason == "length")
    }

    @Test("an Ollama chat stream as the server writes it: keys of the pieces and of the last line; the parser reads them")
    func ollamaStream() throws {
        var stream = Data()
        for piece in ["Blue", " sky"] {
            stream += ChatWire.line(OllamaStreamLine(model: "gemma3", createdAt: "2026-01-01T00:00:00.000Z", message: .init(content: piece), done: false))
        }
        let last = OllamaStreamLine(model: "gemma3", createdAt: "2026-01-01T00:00:01.000Z", message: .init(content: ""), done: true, doneReason: "stop",
                                    totalDuration: 9, loadDuration: 0, promptEvalCount: 12, promptEvalDuration: 4, evalCount: 2, evalDuration: 5)
        stream += ChatWire.line(last)

        let lines = String(decoding: stream, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let piece = try Self.object(Data(lines[0].utf8))
        #expect(Set(piece.keys) == ["model", "created_at", "message", "done"])
        #expect(piece["message"] as? [String: String] == ["role": "assistant", "content": "Blue"] && piece["done"] as? Bool == false)
        let end = try Self.object(Data(lines[2].utf8))
        #expect(Set(end.keys) == ["model", "created_at", "message", "done", "done_reason", "total_duration", "load_duration",
                                  "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"])
        #expect(try ChatWire.decode(OllamaStreamLine.self, from: lines[2]) == last)
        let generate = try Self.object(ChatWire.json(OllamaStreamLine(model: "gemma3", createdAt: "t", response: "", done: true, doneReason: "load")))
        #expect(Set(generate.keys) == ["model", "created_at", "response", "done", "done_reason"])

        let (parser, pieces) = try Self.parse(stream, api: .ollama)
        #expect(pieces == ["Blue", " sky"] && parser.text == "Blue sky" && parser.finished)
        #expect(parser.promptTokens == 12 && parser.generatedTokens == 2 && parser.stopReason == "end")
    }

    @Test("an error in the stream: OpenAI's error event and Ollama's error line, each read by the parser as the server's message")
    func streamErrors() throws {
        let openAI = ChatWire.event(ChatStreamError(message: "generation failed", type: "server_error"))
        let event = try Self.object(Data(String(decoding: openAI, as: UTF8.self).dropFirst(6).utf8))
        let detail = try #require(event["error"] as? [String: Any])
        #expect(Set(detail.keys) == ["message", "type", "param", "code"] && detail["param"] is NSNull && detail["code"] is NSNull)
        #expect(throws: ChatServerFailure.errorInStream("generation failed")) { _ = try Self.parse(openAI, api: .openAI) }

        let ollama = ChatWire.line(ChatStreamError(message: "out of memory"))
        #expect(String(decoding: ollama, as: UTF8.self) == #"{"error":"out of memory"}"# + "\n")
        #expect(throws: ChatServerFailure.errorInStream("out of memory")) { _ = try Self.parse(ollama, api: .ollama) }
        #expect(throws: ChatServerFailure.notJSON("<html>")) { _ = try Self.parse(Data("<html>\n".utf8), api: .ollama) }
    }

    @Test("answering's messages name no CLI option or command")
    func messagesSpeakLibrary() {
        let failures: [ChatServerFailure] = [
            .connectionRefused, .unreachable("timed out"), .status(code: 404, reason: "Not Found", message: "no model"), .errorInStream("x"),
            .notJSON("<html>"), .brokenStream("reset"), .incompleteStream(receivedCharacters: 3),
        ]
        let errors: [AnswerError] = [
            .noSources(indexPath: "/tmp/index.sqlite"), .generator(.invalidInput("bad")), .invalidServerURL("ftp://x"),
            .unknownServerAPI(url: "http://x/y"),
        ] + failures.map { .chatServer(endpoint: "http://127.0.0.1:1/v1/chat/completions", $0) }
        for error in errors {
            #expect(!error.description.contains("--") && !error.description.contains("gemma-embed"), "\(error.description)")
        }
        #expect(AnswerError.noSources(indexPath: "/tmp/index.sqlite").description.contains("/tmp/index.sqlite"))
    }
}
