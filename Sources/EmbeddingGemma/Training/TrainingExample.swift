#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One training example of the ranking loss: an anchor, its positive and optionally a hard negative.
public struct TrainingExample: Sendable, Hashable, Codable {
    /// The text that searches (a query, or a labelled text).
    public var anchor: String
    /// The text it must find (its document, or another text of its label).
    public var positive: String
    /// A text it must not find (a hard negative), if any.
    public var negative: String?

    /// An example of the three texts.
    public init(anchor: String, positive: String, negative: String? = nil) {
        self.anchor = anchor
        self.positive = positive
        self.negative = negative
    }

    /// Reads a JSON Lines file of `{"anchor", "positive"[, "negative"]}` objects (blank lines
    /// skipped). Every text must be non-empty, and either every line or none has a negative.
    public static func readPairs(path: String) throws(TrainingError) -> [TrainingExample] {
        var examples: [TrainingExample] = []
        try forEachLine(path) { (line: Int, example: TrainingExample) throws(TrainingError) in
            for (name, text) in [("anchor", example.anchor), ("positive", example.positive), ("negative", example.negative ?? "x")]
            where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw .invalidData(path: path, line: line, reason: "empty \(name)")
            }
            if let first = examples.first, (first.negative == nil) != (example.negative == nil) {
                throw .invalidData(path: path, line: line, reason: "either every line has a \"negative\" or none does")
            }
            examples.append(example)
        }
        return examples
    }

    /// A labelled text.
    public struct Labelled: Sendable, Hashable, Codable {
        /// The text.
        public var text: String
        /// Its class.
        public var label: String

        /// A text with its label.
        public init(text: String, label: String) {
            self.text = text
            self.label = label
        }
    }

    /// Reads a JSON Lines file of `{"text", "label"}` objects (other keys ignored; blank lines skipped).
    public static func readLabelled(path: String) throws(TrainingError) -> [Labelled] {
        var items: [Labelled] = []
        try forEachLine(path) { (line: Int, item: Labelled) throws(TrainingError) in
            if item.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw .invalidData(path: path, line: line, reason: "empty text")
            }
            if item.label.isEmpty { throw .invalidData(path: path, line: line, reason: "empty label") }
            items.append(item)
        }
        return items
    }

    /// Pairs for labelled texts, as SetFit-style contrastive training makes them: each text is an
    /// anchor with one positive drawn at random (seeded) from the other texts of its label.
    /// - Throws: ``TrainingError/singleExampleLabels(_:)`` when a label has one text.
    public static func pairs(from items: [Labelled], seed: UInt64) throws(TrainingError) -> [TrainingExample] {
        var byLabel: [String: [Int]] = [:]
        for (index, item) in items.enumerated() { byLabel[item.label, default: []].append(index) }
        let lonely = byLabel.filter { $0.value.count < 2 }.keys.sorted()
        if !lonely.isEmpty { throw .singleExampleLabels(lonely) }
        var random = SplitMix64(seed: seed)
        return items.enumerated().map { index, item in
            let others = byLabel[item.label, default: []].filter { $0 != index }
            let pick = others[Int(random.next() % UInt64(others.count))]
            return TrainingExample(anchor: item.text, positive: items[pick].text)
        }
    }

    private static func forEachLine<Item: Decodable>(_ path: String, _ body: (Int, Item) throws(TrainingError) -> Void) throws(TrainingError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidData(path: path, line: 0, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidData(path: path, line: 0, reason: "not UTF-8 text")
        }
        let decoder = JSONDecoder()
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let item: Item
            do {
                item = try decoder.decode(Item.self, from: Data(trimmed.utf8))
            } catch {
                throw .invalidData(path: path, line: offset + 1, reason: "not a JSON object with the expected string fields")
            }
            try body(offset + 1, item)
        }
    }
}
