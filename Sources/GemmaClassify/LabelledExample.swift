import Foundation

/// One training example: a text and its label.
public struct LabelledExample: Sendable, Hashable, Codable {
    /// The text.
    public var text: String
    /// Its label.
    public var label: String
    /// Where it came from (1-based line of its file, or position in the list): errors name it.
    public var line: Int

    public init(text: String, label: String, line: Int) {
        self.text = text
        self.label = label
        self.line = line
    }

    /// The examples of a JSON Lines file, one `{"text": ..., "label": ...}` object per line
    /// (other fields are ignored; blank lines are skipped).
    /// - Throws: ``ClassifyError/file(path:reason:)`` when it cannot be read,
    ///   ``ClassifyError/invalidLine(line:reason:)`` for a line that is not such an object.
    public static func read(path: String) throws(ClassifyError) -> [LabelledExample] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .file(path: path, reason: "cannot read the file")
        }
        guard let contents = String(data: data, encoding: .utf8) else {
            throw .file(path: path, reason: "not UTF-8 text")
        }
        var examples: [LabelledExample] = []
        for (index, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            examples.append(try parse(trimmed, line: index + 1))
        }
        return examples
    }

    /// One JSON Lines object.
    static func parse(_ text: String, line: Int) throws(ClassifyError) -> LabelledExample {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw .invalidLine(line: line, reason: "not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw .invalidLine(line: line, reason: "expected a JSON object with \"text\" and \"label\"")
        }
        guard let value = fields["text"] as? String else {
            throw .invalidLine(line: line, reason: "missing or non-string \"text\" field")
        }
        guard let label = fields["label"] as? String ?? (fields["label"] as? Int).map(String.init) else {
            throw .invalidLine(line: line, reason: "missing or non-string \"label\" field")
        }
        return LabelledExample(text: value, label: label, line: line)
    }

    /// Checks a training set: texts and labels present, at least two labels, each with at least
    /// two examples.
    /// - Returns: the labels, sorted (the head's class order, as scikit-learn's `classes_`).
    public static func validate(_ examples: [LabelledExample]) throws(ClassifyError) -> [String] {
        guard !examples.isEmpty else { throw .noExamples }
        var counts: [String: (count: Int, line: Int)] = [:]
        for example in examples {
            guard !example.text.allSatisfy(\.isWhitespace) else { throw .emptyText(line: example.line) }
            guard !example.label.allSatisfy(\.isWhitespace) else { throw .emptyLabel(line: example.line) }
            counts[example.label, default: (0, example.line)].count += 1
        }
        let labels = counts.keys.sorted()
        guard labels.count >= 2 else { throw .oneClass(label: labels[0]) }
        for label in labels {
            let entry = counts[label] ?? (0, 0)
            if entry.count < 2 { throw .tooFewExamples(label: label, count: entry.count, line: entry.line) }
        }
        return labels
    }
}
