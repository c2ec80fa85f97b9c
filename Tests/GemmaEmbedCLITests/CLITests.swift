import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// Runs the built `gemma-embed` executable, as a user would.
enum CLI {
    static let executable: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gemma-embed")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/release/gemma-embed")
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], directory: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// The `embedding` arrays of JSON Lines output.
    static func embeddings(_ output: String) throws -> [[Float]] {
        try output.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let values = try #require(object?["embedding"] as? [Double])
            return values.map(Float.init)
        }
    }
}

@Suite("gemma-embed on a tiny model", .serialized)
struct CLITinyModelTests {
    static let folder: String = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TinyModel.write()
    }()

    var model: EmbeddingModel {
        get throws { try EmbeddingModel(path: Self.folder) }
    }

    @Test("embed prints one JSON line per input, in order, with floats that round-trip")
    func embedArguments() throws {
        let result = try CLI.run(["embed", "--model", Self.folder, "--prompt", "query", "abc", "hi there", ""])
        #expect(result.status == 0, "\(result.stderr)")
        let vectors = try CLI.embeddings(result.stdout)
        let expected = try model.encode(["abc", "hi there", ""], prompt: .named("query"))
        #expect(vectors == expected)
    }

    @Test("embed --jsonl: a line's prompt wins over prompt_name, an empty prompt means none, title selects the document prompt")
    func embedJSONL() throws {
        let lines = """
        {"text": "abc", "prompt_name": "query", "prompt": "hi "}
        {"text": "abc", "prompt_name": "query"}
        {"text": "abc", "prompt": ""}
        {"text": "abc", "title": "ab"}
        {"text": "abc"}
        """
        let result = try CLI.run(["embed", "--jsonl", "--input", "-", "--model", Self.folder, "--prompt", "STS"], stdin: Data(lines.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let vectors = try CLI.embeddings(result.stdout)
        let expected = try model.embed(Array(repeating: "abc", count: 5), prompts: [
            .literal("hi "), .named("query"), .none, .literal("title: ab | text: "), .named("STS"),
        ]).map(\.vector)
        // Same batch, same arithmetic: identical floats.
        #expect(vectors == expected)
    }

    @Test("plain input file: one text per line, CRLF tolerated, written to --output")
    func embedFile() throws {
        let dir = ScratchDirectory("cli").path
        try "abc\r\nhi\n".write(toFile: dir + "/in.txt", atomically: true, encoding: .utf8)
        let result = try CLI.run(["embed", "--input", dir + "/in.txt", "--output", dir + "/out.jsonl", "--model", Self.folder])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try String(contentsOfFile: dir + "/out.jsonl", encoding: .utf8)
        #expect(try CLI.embeddings(written) == (try model.encode(["abc", "hi"])))
    }

    @Test("tokenize prints ids with <bos> and <eos>, no prompt")
    func tokenize() throws {
        let result = try CLI.run(["tokenize", "--model", Self.folder, "abc", "<tag>hi"])
        #expect(result.status == 0, "\(result.stderr)")
        let abc = TinyModel.pieceId("abc"), tag = TinyModel.pieceId("<tag>"), hi = TinyModel.pieceId("hi")
        #expect(result.stdout == "{\"ids\":[2,\(abc),1]}\n{\"ids\":[2,\(tag),\(hi),1]}\n")
    }

    @Test("similarity prints one score per document")
    func similarity() throws {
        let result = try CLI.run(["similarity", "--model", Self.folder, "--query", "abc", "abc", "hi hi"])
        #expect(result.status == 0, "\(result.stderr)")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Double])
        let m = try model
        let expected = try m.similarity([m.encodeQuery("abc")], m.encodeDocument(["abc", "hi hi"]))[0]
        #expect(row.map(Float.init) == expected)
    }

    @Test("over-long input: truncated with a warning, or rejected with --no-truncate")
    func truncation() throws {
        let long = String(repeating: "é", count: 60)
        let warned = try CLI.run(["embed", "--model", Self.folder, long])
        #expect(warned.status == 0)
        #expect(warned.stderr.contains("truncated to \(TinyModel.maxPositions)"))
        #expect(try CLI.embeddings(warned.stdout).count == 1)
        let rejected = try CLI.run(["embed", "--model", Self.folder, "--no-truncate", long])
        #expect(rejected.status != 0)
        #expect(rejected.stderr.contains("122 tokens"))
        #expect(rejected.stdout.isEmpty)
    }

    @Test("bad input gives a clear error and a non-zero exit", arguments: [
        (["embed", "--model", "/nonexistent/model", "x"], "model not found"),
        (["embed", "x", "--prompt", "nope"], "unknown prompt name 'nope'"),
        (["embed", "x", "--dimensions", "100"], "unsupported dimensions 100"),
        (["embed"], "No input"),
        (["embed", "--input", "/nonexistent/file.txt"], "cannot read input file"),
        (["embed", "--title", "t", "--prompt", "query", "x"], "title only applies to the document prompt"),
        (["embed", "x", "--quantization", "q3"], "unknown quantization 'q3'"),
        (["embed", "x", "--quantization", "q8_0"], "q8_0 stores blocks of 32 values"),
        (["quantize", "--type", "q4_0", "--output", "/tmp/never-written.gguf"], "q4_0 stores blocks of 32 values"),
        (["quantize", "--type", "int5", "--output", "/tmp/never-written.gguf"], "unknown type 'int5'"),
        (["quantize", "--type", "f16", "--calibration", "/tmp/x.txt", "--output", "/tmp/never-written.gguf"],
         "--calibration applies to q8_0, q4_0 and mixed, not f16"),
        (["quantize", "--type", "q4_0", "--calibration", "/tmp/x.txt", "--no-calibration", "--output", "/tmp/never-written.gguf"],
         "--calibration and --no-calibration exclude each other"),
    ])
    func errors(arguments: [String], message: String) throws {
        let withModel = arguments.contains("--model") ? arguments : arguments + ["--model", Self.folder]
        let result = try CLI.run(withModel)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("bench --json reports the query latency and a cold start run as a child process")
    func benchJSON() throws {
        let result = try CLI.run(["bench", "--model", Self.folder, "--workloads", "w2,w4", "--query-calls", "3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["weights"] as? String == "f32")
        #expect((report["peak_rss_mb"] as? Double ?? 0) > 1)
        let workloads = try #require(report["workloads"] as? [[String: Any]])
        #expect(workloads.map { $0["name"] as? String } == ["W2 query latency", "W4 cold start"])
        let query = try #require(workloads.first?["metrics"] as? [String: Double])
        #expect((query["p50 ms"] ?? 0) > 0 && (query["p50 ms"] ?? 0) <= (query["p99 ms"] ?? 0))
        let coldStart = try #require(workloads.last?["metrics"] as? [String: Double])
        #expect((coldStart["seconds"] ?? 0) > 0 && (coldStart["seconds"] ?? 0) < 60)

        // The child gets --model (the environment names no model), and the table pads the workload names.
        let table = try CLI.run(["bench", "--model", Self.folder, "--workloads", "w4"],
                                environment: ["EMBEDDINGGEMMA_MODEL": "/nonexistent"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("W4 cold start      seconds "), "\(table.stdout)")
    }

    @Test("quantize writes a GGUF file that every command loads with --model")
    func quantize() throws {
        let path = ScratchDirectory("cli-gguf").path + "/tiny-f16.gguf"
        let written = try CLI.run(["quantize", "--model", Self.folder, "--type", "f16", "--output", path])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("wrote") && written.stdout.contains("f16"))
        // The size it reports is the file's, in MB with one decimal as printf would round it.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(written.stdout.contains("(f16, \(String(format: "%.1f", Double(size) / 1e6)) MB)"), "\(written.stdout)")
        let fromFile = try CLI.run(["embed", "--model", path, "--prompt", "query", "abc", "hi there"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let inMemory = try CLI.run(["embed", "--model", Self.folder, "--quantization", "f16", "--prompt", "query", "abc", "hi there"])
        #expect(try CLI.embeddings(fromFile.stdout) == CLI.embeddings(inMemory.stdout))
        let tokens = try CLI.run(["tokenize", "--model", path, "abc hi  <tag>"])
        let reference = try CLI.run(["tokenize", "--model", Self.folder, "abc hi  <tag>"])
        #expect(tokens.status == 0 && tokens.stdout == reference.stdout, "\(tokens.stderr)")
        let unwritable = try CLI.run(["quantize", "--model", Self.folder, "--type", "f16", "--output", "/nonexistent/dir/x.gguf"])
        #expect(unwritable.status != 0 && unwritable.stderr.contains("cannot create"))
    }

    @Test("verify accepts the right digest and rejects a corrupt file")
    func verify() throws {
        let digest = try SHA256.hexDigest(ofFile: Self.folder + "/model.safetensors")
        let good = try CLI.run(["verify", "--model", Self.folder, "--expected", digest])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("matches"))
        let bad = try CLI.run(["verify", "--model", Self.folder])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("corrupt or a different model"))
    }

    @Test("JSONL errors name the line; invalid UTF-8 and empty input are rejected")
    func inputErrors() throws {
        let badLine = try CLI.run(["embed", "--jsonl", "--input", "-", "--model", Self.folder],
                                  stdin: Data("{\"text\": \"a\"}\n{\"txt\": 1}\n".utf8))
        #expect(badLine.status != 0)
        #expect(badLine.stderr.contains("line 2"))
        let notJSON = try CLI.run(["embed", "--jsonl", "--input", "-", "--model", Self.folder], stdin: Data("{\"text\": \"a\"}\nnope\n".utf8))
        #expect(notJSON.status != 0)
        #expect(notJSON.stderr.contains("line 2: not valid JSON"))
        let utf8 = try CLI.run(["embed", "--input", "-", "--model", Self.folder], stdin: Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]))
        #expect(utf8.status != 0)
        #expect(utf8.stderr.contains("invalid UTF-8: line 2"))
        let empty = try CLI.run(["embed", "--input", "-", "--model", Self.folder], stdin: Data())
        #expect(empty.status != 0)
        #expect(empty.stderr.contains("no texts"))
    }
}

/// Where the real model and the golden data are, for the tests that need them.
enum RealModel {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/golden").path

    static var available: Bool {
        ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1"
            || ((try? ModelLocation.resolve(nil)) != nil && FileManager.default.fileExists(atPath: golden))
    }
}

@Suite("gemma-embed on the real model", .enabled(if: RealModel.available, "model or ../shared/golden missing"))
struct CLIRealModelTests {
    @Test("similarity on the model card example matches the reference row")
    func modelCard() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: RealModel.golden + "/model_card_example.json"))
        let card = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let query = try #require(card["query"] as? String)
        let documents = try #require(card["documents"] as? [String])
        let reference = try #require(card["reference_similarities"] as? [Double])
        let result = try CLI.run(["similarity", "--query", query] + documents)
        #expect(result.status == 0, "\(result.stderr)")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Double])
        try #require(row.count == reference.count)
        for (got, expected) in zip(row, reference) { #expect(abs(got - expected) <= 1e-4) }
    }

    @Test("tokenize matches the reference ids of the model card query")
    func tokenize() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: RealModel.golden + "/model_card_example.json"))
        let card = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let text = try #require(card["query_prompt"] as? String) + (try #require(card["query"] as? String))
        let ids = try #require(card["query_input_ids"] as? [Int])
        let result = try CLI.run(["tokenize", text])
        #expect(result.stdout == "{\"ids\":[\(ids.map(String.init).joined(separator: ","))]}\n")
    }
}
