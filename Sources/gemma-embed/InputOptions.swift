import ArgumentParser
import EmbeddingGemma
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where texts come from: arguments, a file, or standard input; plain lines or JSON Lines.
struct InputOptions: ParsableArguments {
    @Argument(help: "Texts to process (or use --input).")
    var texts: [String] = []

    @Option(name: .long, help: "Read inputs from FILE, one per line ('-' for standard input).")
    var input: String?

    @Flag(name: .long, help: "Each input line is a JSON object with \"text\" (and optional \"prompt_name\", \"prompt\", \"title\").")
    var jsonl = false

    func validate() throws {
        if !texts.isEmpty, input != nil {
            throw ValidationError("Give texts either as arguments or with --input, not both.")
        }
        if texts.isEmpty, input == nil {
            throw ValidationError("No input: pass texts as arguments, or --input FILE (--input - reads standard input).")
        }
    }

    /// The inputs in order, each with its 1-based line number (or argument position).
    func read() throws -> [InputRecord] {
        let lines: [(number: Int, text: String)]
        if let input {
            lines = try InputReader.lines(from: input)
        } else {
            lines = texts.enumerated().map { ($0.offset + 1, $0.element) }
        }
        let records: [InputRecord]
        if jsonl {
            records = try lines.compactMap { line in
                if line.text.allSatisfy(\.isWhitespace) { return nil }
                return try InputRecord(jsonLine: line.text, number: line.number)
            }
        } else {
            records = lines.map { InputRecord(text: $0.text, line: $0.number) }
        }
        guard !records.isEmpty else {
            throw CLIError("the input holds no texts")
        }
        return records
    }
}

/// One input text and the prompt fields that came with it.
struct InputRecord {
    var text: String
    var line: Int
    var promptName: String?
    var prompt: String?
    var title: String?

    init(text: String, line: Int) {
        self.text = text
        self.line = line
    }

    /// Parses a JSON Lines object: `text` (required), `prompt_name`, `prompt`, `title`.
    init(jsonLine: String, number: Int) throws {
        let value: JSONLineValue
        do {
            value = try JSONDecoder().decode(JSONLineValue.self, from: Data(jsonLine.utf8))
        } catch {
            throw CLIError("line \(number): not valid JSON")
        }
        guard case .object(let fields) = value else {
            throw CLIError("line \(number): expected a JSON object with a \"text\" field")
        }
        guard case .string(let text)? = fields["text"] else {
            throw CLIError("line \(number): missing or non-string \"text\" field")
        }
        func optionalString(_ key: String) throws -> String? {
            switch fields[key] {
            case nil, .null?: return nil
            case .string(let string)?: return string
            default: throw CLIError("line \(number): \"\(key)\" must be a string")
            }
        }
        self.text = text
        line = number
        promptName = try optionalString("prompt_name")
        prompt = try optionalString("prompt")
        title = try optionalString("title")
    }
}

/// Reads text inputs, rejecting invalid UTF-8 with the line where it occurs.
enum InputReader {
    static func lines(from path: String) throws -> [(number: Int, text: String)] {
        let data: Data
        if path == "-" {
            data = Data(readStandardInput())
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read input file \(path)")
            }
            data = contents
        }
        var result: [(Int, String)] = []
        var lineStart = data.startIndex
        var number = 1
        func take(_ range: Range<Data.Index>) throws {
            var slice = data[range]
            if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
            guard let text = UTF8Validation.string(from: slice) else {
                throw EmbeddingGemmaError.invalidUTF8("line \(number) of \(path == "-" ? "standard input" : path)")
            }
            result.append((number, text))
        }
        for index in data.indices where data[index] == UInt8(ascii: "\n") {
            try take(lineStart..<index)
            lineStart = data.index(after: index)
            number += 1
        }
        if lineStart < data.endIndex { try take(lineStart..<data.endIndex) }
        return result
    }
}

/// Every byte of standard input.
private func readStandardInput() -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

/// An error in how the command was used, shown as `Error: message` with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
