import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// `classify train`, `classify predict`, `route` and `route calibrate` on the tiny model: output and errors.
@Suite("gemma-embed classify and route on a tiny model", .serialized)
struct ClassifyCLITests {
    static var folder: String { CLITinyModelTests.folder }

    static func file(_ name: String, _ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("classify-cli-\(UUID().uuidString)-\(name)").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let examples = """
    {"text": "abc abc", "label": "letters"}
    {"text": "ab ab ab", "label": "letters"}
    {"text": "hi hi", "label": "greeting"}
    {"text": "hi there", "label": "greeting"}
    """

    @Test("train writes a classifier; predict prints one JSON line per input, --top limits the scores")
    func trainAndPredict() throws {
        let examples = try Self.file("examples.jsonl", Self.examples)
        let output = examples + ".clf.json"
        let trained = try CLI.run(["classify", "train", "--examples", examples, "--output", output, "--model", Self.folder, "--prompt", "query"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("trained on 4 examples, 2 labels, 16 dimensions"))
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any])
        #expect(stored["labels"] as? [String] == ["greeting", "letters"])
        let predicted = try CLI.run(["classify", "predict", "--classifier", output, "--model", Self.folder, "hi there", "abc", "--top", "1"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let label = try #require(object["label"] as? String)
            let scores = try #require(object["scores"] as? [String: Double])
            #expect(Array(scores.keys) == [label])
            #expect((object["score"] as? Double ?? 0) > 0.5)
        }
        // Without --model, the model recorded in the classifier is loaded.
        let recorded = try CLI.run(["classify", "predict", "--classifier", output, "--input", examples, "--jsonl"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout.split(separator: "\n").count == 4)
    }

    @Test("bad examples, widths, prompts and another model's classifier: clear errors, non-zero exit")
    func errors() throws {
        func train(_ contents: String, _ extra: [String] = ["--prompt", "query"]) throws -> CLI.Output {
            let path = try Self.file("bad.jsonl", contents)
            return try CLI.run(["classify", "train", "--examples", path, "--output", path + ".json", "--model", Self.folder] + extra)
        }
        let oneClass = try train("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"x\"}\n")
        #expect(oneClass.status != 0 && oneClass.stderr.contains("every example has the label 'x'"))
        let lonely = try train(Self.examples + "\n{\"text\": \"q\", \"label\": \"alone\"}\n")
        #expect(lonely.status != 0 && lonely.stderr.contains("label 'alone' has 1 example (line 5)"), "\(lonely.stderr)")
        let empty = try train(Self.examples + "\n{\"text\": \"\", \"label\": \"letters\"}\n")
        #expect(empty.status != 0 && empty.stderr.contains("line 5: the text is empty"), "\(empty.stderr)")
        let broken = try train("{\"text\": \"a\"}\n")
        #expect(broken.status != 0 && broken.stderr.contains("line 1: missing or non-string \"label\" field"))
        let width = try train(Self.examples, ["--prompt", "query", "--dimensions", "100"])
        #expect(width.status != 0 && width.stderr.contains("100"))
        let prompt = try train(Self.examples, [])
        #expect(prompt.status != 0 && prompt.stderr.contains("no prompt named 'Classification'"), "\(prompt.stderr)")

        let examples = try Self.file("examples.jsonl", Self.examples)
        let output = examples + ".clf.json"
        #expect(try CLI.run(["classify", "train", "--examples", examples, "--output", output, "--model", Self.folder, "--prompt", "query"]).status == 0)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))) as? [String: Any])
        var model = try #require(object["model"] as? [String: Any])
        model["fingerprint"] = "0000000000000000"
        object["model"] = model
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: output))
        let mismatch = try CLI.run(["classify", "predict", "--classifier", output, "--model", Self.folder, "hi"])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("fingerprint 0000000000000000"), "\(mismatch.stderr)")
        let missing = try CLI.run(["classify", "predict", "--classifier", output + ".nope", "--model", Self.folder, "hi"])
        #expect(missing.status != 0 && missing.stderr.contains("cannot read the file"))
    }

    @Test("route prints the route of each query; calibrate prints the trade-off; bad routes files name the field")
    func route() throws {
        let routes = try Self.file("routes.json", """
        {"routes": [{"name": "letters", "examples": ["abc abc", "ab ab ab"]}, {"name": "greeting", "examples": ["hi hi", "hi there"]}], "threshold": -1}
        """)
        let common = ["--routes", routes, "--model", Self.folder, "--prompt", "query", "--no-cache"]
        let routed = try CLI.run(["route"] + common + ["hi there", "abc abc"])
        #expect(routed.status == 0, "\(routed.stderr)")
        let matches = try routed.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(matches.map { $0["route"] as? String } == ["greeting", "letters"])
        #expect((matches[0]["alternatives"] as? [[String: Any]])?.first?["route"] as? String == "letters")
        let calibrated = try CLI.run(["route", "calibrate", "--json"] + common)
        #expect(calibrated.status == 0, "\(calibrated.stderr)")
        let calibration = try #require(try JSONSerialization.jsonObject(with: Data(calibrated.stdout.utf8)) as? [String: Any])
        #expect(calibration["examples"] as? Int == 4 && calibration["file_threshold"] as? Double == -1)
        let text = try CLI.run(["route", "calibrate"] + common)
        #expect(text.status == 0 && text.stdout.contains("threshold   precision   recall   coverage"))

        let duplicate = try Self.file("dup.json", #"{"routes": [{"name": "a", "examples": ["x"]}, {"name": "a", "examples": ["y"]}]}"#)
        let refused = try CLI.run(["route", "--routes", duplicate, "--model", Self.folder, "--prompt", "query", "--no-cache", "x"])
        #expect(refused.status != 0 && refused.stderr.contains("routes[1]: the route name 'a' is already used by routes[0]"), "\(refused.stderr)")
        let shape = try Self.file("shape.json", #"{"routes": [{"name": "a", "examples": "x"}]}"#)
        let wrong = try CLI.run(["route", "--routes", shape, "--model", Self.folder, "--prompt", "query", "x"])
        #expect(wrong.status != 0 && wrong.stderr.contains("'routes[0].examples' must be an array of strings"), "\(wrong.stderr)")
    }
}
