import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// `finetune` on the tiny model: a run writes a folder every verb loads with `--model`; SIGTERM
/// saves a checkpoint and `--resume` finishes with the weights of an uninterrupted run; bad input
/// gets a clear error and a non-zero exit.
@Suite("gemma-embed finetune on a tiny model", .serialized)
struct FinetuneCLITests {
    static var folder: String { CLITinyModelTests.folder }

    static func file(_ name: String, _ contents: String) throws -> String {
        let path = ScratchDirectory("finetune-cli").path + "/" + name
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Pairs over the toy vocabulary.
    static func pairs(_ count: Int) -> String {
        let words = ["a", "ab", "abc", "hi", "ca", "bi", "ha", "cab", "ih", "ba", "ac", "hic"]
        return (0..<count).map { i in
            "{\"anchor\": \"\(words[i % 12]) \(words[(i * 5 + 1) % 12]) \(i)\", \"positive\": \"\(words[i % 12]) \(words[(i * 7 + 3) % 12]) \(i)\"}"
        }.joined(separator: "\n") + "\n"
    }

    @Test("a run writes a model folder and a GGUF file that other verbs load; retrieval metrics before and after")
    func finetuneAndUse() throws {
        let data = try Self.file("pairs.jsonl", Self.pairs(16))
        let output = ScratchDirectory("finetune-out").path + "/model"
        let gguf = output + ".gguf"
        let run = try CLI.run(["finetune", "--pairs", data, "--model", Self.folder, "--output", output, "--epochs", "2",
                               "--batch-size", "4", "--learning-rate", "1e-3", "--eval", data, "--gguf", gguf, "--gguf-quantization", "f32"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("16 examples, 8 steps"), "\(run.stderr)")
        #expect(run.stderr.contains("before training: mrr@10"), "\(run.stderr)")
        #expect(run.stderr.contains("after epoch 2: mrr@10"), "\(run.stderr)")
        #expect(run.stderr.contains("fine-tuned: 8 steps"), "\(run.stderr)")
        let embedded = try CLI.run(["embed", "--model", output, "--prompt", "query", "abc hi"])
        #expect(embedded.status == 0, "\(embedded.stderr)")
        let base = try CLI.run(["embed", "--model", Self.folder, "--prompt", "query", "abc hi"])
        #expect(embedded.stdout.hasPrefix("{\"embedding\":[") && embedded.stdout != base.stdout)
        // Other verbs take the fine-tune with --model too.
        let labelled = try Self.file("labelled.jsonl", "{\"text\": \"abc abc\", \"label\": \"x\"}\n{\"text\": \"ab ab\", \"label\": \"x\"}\n"
            + "{\"text\": \"hi hi\", \"label\": \"y\"}\n{\"text\": \"hi there\", \"label\": \"y\"}\n")
        let classifier = try CLI.run(["classify", "train", "--examples", labelled, "--output", output + ".clf.json", "--model", output,
                                      "--prompt", "query"])
        #expect(classifier.status == 0, "\(classifier.stderr)")
        let searched = try CLI.run(["similarity", "--model", output, "--query", "abc", "abc abc", "hi"])
        #expect(searched.status == 0, "\(searched.stderr)")
        let fromGGUF = try CLI.run(["embed", "--model", gguf, "--prompt", "query", "abc hi"])
        #expect(fromGGUF.status == 0 && fromGGUF.stdout == embedded.stdout, "the GGUF file embeds as the folder: \(fromGGUF.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output + ".checkpoint"), "the checkpoint is removed after a finished run")
        // The output exists: refused without --overwrite.
        let again = try CLI.run(["finetune", "--pairs", data, "--model", Self.folder, "--output", output, "--batch-size", "4"])
        #expect(again.status != 0 && again.stderr.contains("already exists") && again.stderr.contains("--overwrite"), "\(again.stderr)")
    }

    @Test("bad input: both data kinds, too few pairs, empty text, a lonely label, a GGUF base")
    func errors() throws {
        let output = ScratchDirectory("finetune-bad").path + "/model"
        let pairs = try Self.file("few.jsonl", Self.pairs(3))
        let both = try CLI.run(["finetune", "--pairs", pairs, "--labelled", pairs, "--output", output])
        #expect(both.status != 0 && both.stderr.contains("exactly one of --pairs and --labelled"), "\(both.stderr)")
        let few = try CLI.run(["finetune", "--pairs", pairs, "--model", Self.folder, "--output", output, "--batch-size", "4"])
        #expect(few.status != 0 && few.stderr.contains("fewer than one batch of 4") && few.stderr.contains("--batch-size"), "\(few.stderr)")
        let empty = try Self.file("empty.jsonl", Self.pairs(4) + "{\"anchor\": \"\", \"positive\": \"a\"}\n")
        let emptyRun = try CLI.run(["finetune", "--pairs", empty, "--model", Self.folder, "--output", output, "--batch-size", "2"])
        #expect(emptyRun.status != 0 && emptyRun.stderr.contains(":5: empty anchor"), "\(emptyRun.stderr)")
        let labelled = try Self.file("labels.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"x\"}\n{\"text\": \"c\", \"label\": \"y\"}\n")
        let lonely = try CLI.run(["finetune", "--labelled", labelled, "--model", Self.folder, "--output", output, "--batch-size", "2"])
        #expect(lonely.status != 0 && lonely.stderr.contains("label \"y\" has only one text"), "\(lonely.stderr)")
        let gguf = try Self.file("model.gguf", "GGUF")
        let quantized = try CLI.run(["finetune", "--pairs", try Self.file("ok.jsonl", Self.pairs(8)), "--model", gguf, "--output", output,
                                     "--batch-size", "2"])
        #expect(quantized.status != 0 && quantized.stderr.contains("not a GGUF file"), "\(quantized.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "nothing is written after an error")
    }

    @Test("SIGTERM saves a checkpoint; --resume finishes with the weights of an uninterrupted run")
    func interruptAndResume() throws {
        let data = try Self.file("many.jsonl", Self.pairs(480))
        let scratch = ScratchDirectory("finetune-resume").path
        let arguments = ["finetune", "--pairs", data, "--model", Self.folder, "--batch-size", "4", "--epochs", "3", "--learning-rate", "1e-3"]
        let whole = try CLI.run(arguments + ["--output", scratch + "/whole"])
        #expect(whole.status == 0, "\(whole.stderr)")
        // Stop a second run with SIGTERM as soon as it starts training, then resume it.
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments + ["--output", scratch + "/resumed"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var stderr = ""
        while !stderr.contains("steps"), process.isRunning {
            stderr += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGTERM)
        stderr += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0, "stopped before the end: \(stderr)")
        #expect(stderr.contains("--resume"), "\(stderr)")
        let resumed = try CLI.run(arguments + ["--output", scratch + "/resumed", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming after step"), "\(resumed.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: scratch + "/whole/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: scratch + "/resumed/model.safetensors"))
        #expect(a == b, "the resumed run's weights are bit for bit the uninterrupted run's")
    }
}
