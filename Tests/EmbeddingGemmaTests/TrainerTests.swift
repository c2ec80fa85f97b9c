import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

/// The trainer on the tiny random model: a run lowers the loss and writes a folder that loads
/// and embeds as the trained weights do; a run stopped and resumed from its checkpoint ends with
/// the same weights bit for bit; bad input gets its error.
@Suite("Trainer on a tiny random model")
struct TrainerTests {
    static let folder: String = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TinyModel.write()
    }()

    /// Pairs of short texts over the toy vocabulary ("a", "b", "c", "h", "i" and spaces).
    static func examples(_ count: Int) -> [TrainingExample] {
        let words = ["a", "ab", "abc", "hi", "ca", "bi", "ha", "cab", "ih", "ba", "ac", "hic"]
        return (0..<count).map { i in
            TrainingExample(anchor: "\(words[i % 12]) \(words[(i * 5 + 1) % 12]) \(i)",
                            positive: "\(words[i % 12]) \(words[(i * 7 + 3) % 12]) \(words[(i * 5 + 1) % 12]) \(i)")
        }
    }

    static func options(epochs: Int = 2, learningRate: Float = 1e-3) -> TrainingOptions {
        TrainingOptions(epochs: epochs, batchSize: 4, learningRate: learningRate, matryoshkaDimensions: [16, 8],
                        anchorPrompt: .named("query"), positivePrompt: .named("document"))
    }

    static func snapshot(_ trainer: Trainer) -> [[Float]] {
        trainer.weights.tensors.map { Array(UnsafeBufferPointer(start: $0.values, count: $0.count)) }
    }

    @Test("training lowers the loss; the written folder loads and embeds like the trained weights")
    func trainAndSave() throws {
        let trainer = try Trainer(modelPath: Self.folder, examples: Self.examples(12), options: Self.options(epochs: 4))
        #expect(trainer.totalSteps == 12)
        #expect(trainer.warmupSteps == 2)
        var losses: [Double] = []
        let report = try trainer.train(progress: { losses.append($0.loss) })
        #expect(report.steps == 12 && losses.count == 12)
        #expect(report.epochLosses.count == 4)
        #expect(report.epochLosses[3] < report.epochLosses[0], "loss by epoch: \(report.epochLosses)")
        let output = ScratchDirectory("finetuned").path + "/model"
        try trainer.save(to: output, overwrite: false)
        #expect(throws: TrainingError.self) { try trainer.save(to: output, overwrite: false) }
        let saved = try EmbeddingModel(path: output)
        let texts = ["a b c", "hi there", "abc abc"]
        let fromFolder = try saved.encode(texts, prompt: .named("query"))
        let fromTrainer = try trainer.currentModel().encode(texts, prompt: .named("query"))
        #expect(fromFolder == fromTrainer)
        let base = try EmbeddingModel(path: Self.folder).encode(texts, prompt: .named("query"))
        #expect(base != fromFolder, "training changed the model")
        for name in ["config.json", "tokenizer.json", "modules.json", "config_sentence_transformers.json",
                     "2_Dense/config.json", "2_Dense/model.safetensors", "3_Dense/model.safetensors", "1_Pooling/config.json"] {
            #expect(FileManager.default.fileExists(atPath: output + "/" + name), "\(name) written")
        }
    }

    @Test("an epoch is ceil(examples / batch) steps even when duplicate texts force extra batches")
    func stepsPerEpoch() throws {
        // Every second example shares its positive: a batch of 4 holds at most 2 of the 4 that share one.
        let examples = (0..<12).map { TrainingExample(anchor: "a \($0)", positive: $0 % 2 == 0 ? "ab hi" : "b \($0)") }
        let batches = NoDuplicatesBatches(texts: examples.map { [$0.anchor, $0.positive] }, batchSize: 4, seed: 0).batches
        #expect(batches.count > 3, "the sampler defers clashing examples")
        let trainer = try Trainer(modelPath: Self.folder, examples: examples, options: Self.options(epochs: 2))
        #expect(trainer.totalSteps == 6)
    }

    @Test("a run stopped and resumed from its checkpoint ends with the same weights")
    func resumeIsExact() throws {
        let examples = Self.examples(12)
        let whole = try Trainer(modelPath: Self.folder, examples: examples, options: Self.options())
        _ = try whole.train()
        let checkpoint = ScratchDirectory("checkpoint").path + "/run"
        let first = try Trainer(modelPath: Self.folder, examples: examples, options: Self.options())
        var steps = 0
        #expect(throws: TrainingError.self) {
            _ = try first.train(checkpoint: checkpoint, progress: { _ in steps += 1 }, shouldStop: { steps == 4 })
        }
        #expect(Trainer.checkpointExists(at: checkpoint))
        let second = try Trainer(modelPath: Self.folder, examples: examples, options: Self.options())
        try second.resume(from: checkpoint)
        #expect(second.completedSteps == 4)
        let report = try second.train(checkpoint: checkpoint)
        #expect(report.steps == 6)
        #expect(Self.snapshot(second) == Self.snapshot(whole))
        // Another run's options (here its seed, so other batches) do not resume from it.
        var otherOptions = Self.options()
        otherOptions.seed = 7
        let other = try Trainer(modelPath: Self.folder, examples: examples, options: otherOptions)
        #expect(throws: TrainingError.self) { try other.resume(from: checkpoint) }
    }

    @Test("bad input: too few examples, lonely labels, empty texts, divergence")
    func badInput() throws {
        #expect {
            _ = try Trainer(modelPath: Self.folder, examples: Self.examples(3), options: Self.options())
        } throws: { ($0 as? TrainingError).map { if case .tooFewExamples(3, 4) = $0 { true } else { false } } ?? false }
        let labelled = [TrainingExample.Labelled(text: "a", label: "x"), .init(text: "b", label: "x"), .init(text: "c", label: "y")]
        #expect {
            _ = try TrainingExample.pairs(from: labelled, seed: 0)
        } throws: { ($0 as? TrainingError).map { if case .singleExampleLabels(["y"]) = $0 { true } else { false } } ?? false }
        let pairs = try TrainingExample.pairs(from: labelled + [.init(text: "d", label: "y")], seed: 0)
        #expect(pairs.count == 4 && pairs[0].positive == "b" && pairs[2].positive == "d")
        let file = ScratchDirectory("pairs").path + "/pairs.jsonl"
        try "{\"anchor\": \"a\", \"positive\": \"b\"}\n\n{\"anchor\": \" \", \"positive\": \"b\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try TrainingExample.readPairs(path: file)
        } throws: { ($0 as? TrainingError).map { if case .invalidData(_, 3, "empty anchor") = $0 { true } else { false } } ?? false }
        // A learning rate that makes the loss blow up: stopped, the last good weights checkpointed.
        let checkpoint = ScratchDirectory("diverged").path + "/run"
        let trainer = try Trainer(modelPath: Self.folder, examples: Self.examples(12),
                                  options: TrainingOptions(epochs: 30, batchSize: 4, learningRate: 1e9, warmupRatio: 0,
                                                           maxGradientNorm: 1e30, anchorPrompt: .named("query"), positivePrompt: .named("document")))
        #expect {
            _ = try trainer.train(checkpoint: checkpoint)
        } throws: { ($0 as? TrainingError).map { if case .diverged = $0 { true } else { false } } ?? false }
        #expect(Trainer.checkpointExists(at: checkpoint))
        #expect(Self.snapshot(trainer).allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    @Test("a batch that does not fit in memory is refused with the batch size that fits")
    func memoryCheck() throws {
        let config = try ModelFolder(path: Self.folder).config
        var real = config
        real.hiddenSize = 768; real.intermediateSize = 1152; real.numHiddenLayers = 24; real.numAttentionHeads = 3
        real.headDim = 256; real.vocabSize = 262_144
        // 32 pairs of 500-token texts.
        let sequences = (0..<32).map { _ in [[Int32]](repeating: [Int32](repeating: 5, count: 500), count: 2) }
        let schedule = [[Array(0..<32)]]
        let options = TrainingOptions(batchSize: 32)
        let fits = try Trainer.checkMemory(config: real, sequences: sequences, schedule: schedule, options: options, available: 24 << 30)
        #expect(fits > 0)
        #expect {
            _ = try Trainer.checkMemory(config: real, sequences: sequences, schedule: schedule, options: options, available: 3 << 30)
        } throws: { error in
            guard case let .insufficientMemory(needed, available, 32, fitting) = error as? TrainingError else { return false }
            return needed > available && fitting >= 2 && fitting < 32
        }
    }
}
