import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
@testable import GemmaClassify
import Testing

/// Training, prediction, the file and every bad input, on the tiny model.
@Suite("Classifier on a tiny model")
struct ClassifierTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write())
    }()

    /// The tiny model has no Classification prompt; the query prompt stands in.
    static let options = ClassifierOptions(prompt: .named("query"))

    static let examples = [
        LabelledExample(text: "abc abc", label: "letters", line: 1),
        LabelledExample(text: "ab ab ab", label: "letters", line: 2),
        LabelledExample(text: "hi hi", label: "greeting", line: 3),
        LabelledExample(text: "hi there", label: "greeting", line: 4),
        LabelledExample(text: "12 34", label: "digits", line: 5),
        LabelledExample(text: "56 78 9", label: "digits", line: 6),
    ]

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("classify-\(UUID().uuidString)-\(name)").path
    }

    @Test("train embeds with the prompt at the model's width, and predictions are the head on the model's vectors")
    func trainAndPredict() throws {
        let classifier = try Classifier.train(examples: Self.examples, model: Self.model, options: Self.options)
        #expect(classifier.labels == ["digits", "greeting", "letters"])
        #expect(classifier.dimensions == Self.model.dimensions)
        #expect(classifier.prompt == .init(name: "query", text: try Self.model.promptText(.named("query"))))
        #expect(classifier.model.fingerprint == Self.model.fingerprint)
        #expect(classifier.training.examples == 6 && classifier.training.gradientNorm <= 1e-8)
        let predictions = try classifier.predict(["hi hi", "abc"])
        let vectors = try Self.model.encode(["hi hi", "abc"], prompt: .named("query"))
        for (prediction, vector) in zip(predictions, vectors) {
            let direct = try classifier.predict(embedding: vector)
            #expect(prediction.label == direct.label)
            #expect(abs(prediction.score - direct.score) < 1e-6)
            #expect(abs(prediction.scores.values.reduce(0, +) - 1) < 1e-9)
            #expect(prediction.ranked.map(\.score) == prediction.ranked.map(\.score).sorted(by: >))
            #expect(prediction.top(2).count == 2)
        }
        // The head is scikit-learn's objective at its optimum on these vectors: refitting the
        // same vectors gives the same weights.
        let refit = try Classifier.fit(embeddings: try Self.model.encode(Self.examples.map(\.text), prompt: .named("query")),
                                       labels: Self.examples.map(\.label), classes: classifier.labels, model: classifier.model,
                                       prompt: classifier.prompt, options: Self.options)
        let difference = zip(refit.weights.flatMap { $0 }, classifier.weights.flatMap { $0 }).map { abs($0 - $1) }.max() ?? 1
        #expect(difference < 1e-4)
    }

    @Test("the file round-trips: same head, same predictions; the model is checked when it is read")
    func fileRoundTrip() throws {
        let classifier = try Classifier.train(examples: Self.examples, model: Self.model, options: Self.options)
        let path = Self.temporary("clf.json")
        try classifier.write(to: path)
        let loaded = try Classifier(contentsOf: path, model: Self.model)
        #expect(loaded.weights == classifier.weights && loaded.bias == classifier.bias && loaded.labels == classifier.labels)
        #expect(loaded.model == classifier.model && loaded.prompt == classifier.prompt && loaded.training == classifier.training)
        #expect(loaded.regularization == .init(penalty: "l2", c: 1))
        #expect(try loaded.predict("hi there") == classifier.predict("hi there"))
        let unattached = try Classifier.read(path: path)
        #expect(throws: ClassifyError.noModel) { try unattached.predict("hi") }
    }

    @Test("a classifier used with a model of another fingerprint is refused")
    func fingerprintMismatch() throws {
        var classifier = try Classifier.train(examples: Self.examples, model: Self.model, options: Self.options)
        classifier.model.fingerprint = "0123456789abcdef"
        let path = Self.temporary("other.json")
        try classifier.write(to: path)
        #expect(throws: ClassifyError.modelMismatch(stored: classifier.model, given: ModelIdentity(Self.model))) {
            try Classifier(contentsOf: path, model: Self.model)
        }
    }

    @Test("bad training sets name the line")
    func badExamples() throws {
        func train(_ examples: [LabelledExample], _ options: ClassifierOptions = ClassifierOptions(prompt: .named("query"))) throws {
            _ = try Classifier.train(examples: examples, model: Self.model, options: options)
        }
        #expect(throws: ClassifyError.noExamples) { try train([]) }
        #expect(throws: ClassifyError.oneClass(label: "letters")) { try train(Array(Self.examples.prefix(2))) }
        #expect(throws: ClassifyError.emptyText(line: 7)) {
            try train(Self.examples + [LabelledExample(text: "  ", label: "digits", line: 7)])
        }
        #expect(throws: ClassifyError.emptyLabel(line: 7)) {
            try train(Self.examples + [LabelledExample(text: "x", label: "", line: 7)])
        }
        #expect(throws: ClassifyError.tooFewExamples(label: "lonely", count: 1, line: 9)) {
            try train(Self.examples + [LabelledExample(text: "x", label: "lonely", line: 9)])
        }
        #expect(throws: ClassifyError.model(index: nil, .unsupportedDimensions(256, supported: [16]))) {
            try train(Self.examples, ClassifierOptions(dimensions: 256, prompt: .named("query")))
        }
        #expect(throws: ClassifyError.self) { try train(Self.examples, ClassifierOptions()) }  // no Classification prompt in the tiny model
        let classifier = try Classifier.train(examples: Self.examples, model: Self.model, options: Self.options)
        #expect(throws: ClassifyError.widthMismatch(expected: 16, got: 3)) { try classifier.predict(embedding: [1, 0, 0]) }
    }

    @Test("examples files: JSON Lines with text and label, errors naming the line")
    func examplesFile() throws {
        let path = Self.temporary("examples.jsonl")
        try "{\"text\": \"abc\", \"label\": \"x\"}\n\n{\"text\": \"hi\", \"label\": 3, \"lang\": \"en\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try LabelledExample.read(path: path) == [LabelledExample(text: "abc", label: "x", line: 1), LabelledExample(text: "hi", label: "3", line: 3)])
        try "{\"text\": \"abc\", \"label\": \"x\"}\n{\"text\": \"hi\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ClassifyError.invalidLine(line: 2, reason: "missing or non-string \"label\" field")) { try LabelledExample.read(path: path) }
        try "{\"text\": \"abc\", \"label\": \"x\"}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ClassifyError.invalidLine(line: 2, reason: "not valid JSON")) { try LabelledExample.read(path: path) }
        #expect(throws: ClassifyError.file(path: path + ".missing", reason: "cannot read the file")) { try LabelledExample.read(path: path + ".missing") }
    }

    @Test("classifier files of the wrong shape name the field")
    func badClassifierFile() throws {
        let classifier = try Classifier.train(examples: Self.examples, model: Self.model, options: Self.options)
        let path = Self.temporary("bad.json")
        var broken = classifier
        broken.weights.removeLast()
        try broken.write(to: path)
        #expect(throws: ClassifyError.invalidFile(path: path, field: "weights", reason: "has 2 rows for 3 labels")) { try Classifier.read(path: path) }
        broken = classifier
        broken.weights[1].removeLast()
        try broken.write(to: path)
        #expect(throws: ClassifyError.invalidFile(path: path, field: "weights.1", reason: "has 15 values, not 16")) { try Classifier.read(path: path) }
        try #"{"dimensions": 16}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ClassifyError.invalidFile(path: path, field: "model", reason: "is missing")) { try Classifier.read(path: path) }
        try #"{"model": {"fingerprint": 1, "quantization": "f32", "path": "x"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ClassifyError.invalidFile(path: path, field: "model.fingerprint", reason: "has the wrong type")) { try Classifier.read(path: path) }
    }
}
