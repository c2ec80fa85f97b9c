import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// `gemma-embed ask` end to end on the real embedding model and the Gemma 3 270M generator, over
/// part of ../shared/search-eval (release tier).
@Suite("gemma-embed ask", .serialized, .enabled(if: RealModel.available && GenerateCLITests.generatorAvailable))
struct AskCLITests {
    static let searchEval = URL(fileURLWithPath: RealModel.golden).deletingLastPathComponent().appendingPathComponent("search-eval/docs").path

    /// 40 documents of search-eval indexed into a scratch folder.
    static let corpus: Result<(docs: String, index: String), any Error> = Result {
        let root = ScratchDirectory("ask").path
        let docs = root + "/docs"
        try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: searchEval).sorted().prefix(40)
        for name in names { try FileManager.default.copyItem(atPath: searchEval + "/" + name, toPath: docs + "/" + name) }
        let index = root + "/index.sqlite"
        let built = try CLI.run(["index", docs, "--index", index])
        guard built.status == 0 else { throw CLIFailure(message: built.stderr) }
        return (docs, index)
    }

    struct CLIFailure: Error { let message: String }

    @Test("the answer streams, then the sources are the index's top hits in order")
    func answersWithSources() throws {
        let (docs, index) = try Self.corpus.get()
        let question = "Which library parses CSV files in Haskell?"
        let search = try CLI.run(["search", question, "--index", index, "-k", "3", "--json"])
        #expect(search.status == 0, "\(search.stderr)")
        let hits = try search.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let expected = try hits.enumerated().map { n, hit in "[\(n + 1)] \(try #require(hit["path"] as? String)):\(try #require(hit["line"] as? Int))" }
        #expect(expected.count == 3)

        let ask = try CLI.run(["ask", question, "--index", index, "-k", "3", "--max-tokens", "24", "--generator", GenerateCLITests.generatorPath])
        #expect(ask.status == 0, "\(ask.stderr)")
        let parts = ask.stdout.components(separatedBy: "\n\nSources:\n")
        try #require(parts.count == 2, "\(ask.stdout)")
        #expect(parts[0].contains { $0.isLetter }, "an answer was written: \(parts[0])")
        let listed = parts[1].split(separator: "\n").map { $0.replacingOccurrences(of: " (shortened)", with: "") }
        #expect(listed == expected)
        #expect(ask.stderr.contains("generated"), "\(ask.stderr)")

        let json = try CLI.run(["ask", question, "--index", index, "-k", "3", "--max-tokens", "24", "--json", "--generator", GenerateCLITests.generatorPath])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let sources = try #require(object["sources"] as? [[String: Any]])
        #expect(sources.map { "[\($0["n"] as? Int ?? 0)] \($0["path"] as? String ?? ""):\($0["line"] as? Int ?? 0)" } == expected)
        // Greedy decoding: the JSON answer is the streamed one.
        #expect((object["answer"] as? String) == parts[0].trimmingCharacters(in: .whitespacesAndNewlines))
        _ = docs
    }

    @Test("with a URL, a chat server writes the answer (OpenAI-compatible and Ollama streams alike); the sources are the same")
    func answersThroughAServer() throws {
        let (_, index) = try Self.corpus.get()
        let question = "Which library parses CSV files in Haskell?"
        let local = try CLI.run(["ask", question, "--index", index, "-k", "3", "--max-tokens", "12", "--json", "--generator", GenerateCLITests.generatorPath])
        #expect(local.status == 0, "\(local.stderr)")
        let localSources = try #require(try JSONSerialization.jsonObject(with: Data(local.stdout.utf8)) as? [String: Any])["sources"] as? [[String: Any]]

        let server = try ServerProcess(generator: GenerateCLITests.generatorPath)
        defer { server.stop() }
        var answers: [String] = []
        for url in ["http://127.0.0.1:\(server.port)/v1", "http://127.0.0.1:\(server.port)"] {
            let remote = try CLI.run(["ask", question, "--index", index, "-k", "3", "--max-tokens", "12", "--json", "--generator", url])
            #expect(remote.status == 0, "\(url): \(remote.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(remote.stdout.utf8)) as? [String: Any])
            let sources = try #require(object["sources"] as? [[String: Any]])
            #expect(sources.map { $0["path"] as? String } == localSources?.map { $0["path"] as? String }, "\(url)")
            let answer = try #require(object["answer"] as? String)
            #expect(answer.contains { $0.isLetter }, "\(url): \(answer)")
            #expect(remote.stderr.contains("12 generated"), "\(url): \(remote.stderr)")
            answers.append(answer)
        }
        // Greedy decoding on the same server: both APIs give the same answer.
        #expect(answers.count == 2 && answers[0] == answers[1])

        let refused = try CLI.run(["ask", question, "--index", index, "--generator", "http://127.0.0.1:\(try #require(LoopbackPort.unused()))/v1"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot reach") && refused.stderr.contains("connection refused"), "\(refused.stderr)")
        let wrongModel = try CLI.run(["ask", question, "--index", index, "--generator", "http://127.0.0.1:\(server.port)/v1", "--generator-model", "embeddinggemma"])
        #expect(wrongModel.status != 0)
        #expect(wrongModel.stderr.contains("400") && wrongModel.stderr.contains("embedding model"), "\(wrongModel.stderr)")
    }

    @Test("no index, an empty index and an empty question are clear errors")
    func errors() throws {
        let root = ScratchDirectory("ask-empty").path
        let missing = try CLI.run(["ask", "anything", "--index", root + "/none.sqlite", "--generator", GenerateCLITests.generatorPath])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no index at"), "\(missing.stderr)")

        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let built = try CLI.run(["index", empty, "--index", root + "/empty.sqlite"])
        #expect(built.status == 0, "\(built.stderr)")
        let nothing = try CLI.run(["ask", "anything", "--index", root + "/empty.sqlite", "--generator", GenerateCLITests.generatorPath])
        #expect(nothing.status != 0)
        #expect(nothing.stderr.contains("no passages to answer from"), "\(nothing.stderr)")

        let blank = try CLI.run(["ask", "  ", "--index", root + "/empty.sqlite"])
        #expect(blank.status != 0)
        #expect(blank.stderr.contains("question is empty"), "\(blank.stderr)")
    }
}

/// `gemma-embed serve --generator` on a free loopback port, for as long as a test needs it.
final class ServerProcess {
    let port: Int
    private let process = Process()

    init(generator: String) throws {
        guard let free = LoopbackPort.unused() else { throw ServerFailure(message: "no free loopback port") }
        port = free
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--generator", generator]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts connections (the models load first).
        let deadline = Date().addingTimeInterval(60)
        while !LoopbackPort.accepts(port) {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw ServerFailure(message: "gemma-embed serve did not start on port \(port)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    struct ServerFailure: Error { let message: String }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
