import EmbeddingGemma
import Foundation

/// A file's text, ready to chunk.
struct ExtractedText: Sendable, Equatable {
    /// The text; its lines are the file's lines (for PDFs, the lines `pdftotext` writes).
    var text: String
    /// A title for every chunk of the file (an HTML page's title), if any.
    var title: String?
    /// How the text was read: Markdown headings become chunk titles.
    var kind: TextKind
    /// Whether the bytes were not valid UTF-8 and were read as Latin-1 instead.
    var decodedAsLatin1: Bool
}

/// Turns a file's bytes into text: plain text and source code as they are, HTML without tags,
/// the text layer of PDFs through `pdftotext` (poppler-utils) when it is installed.
struct TextExtractor: Sendable {
    /// `pdftotext`'s path, if installed.
    let pdfToText: String?

    init(pdfToText: String? = TextExtractor.findExecutable("pdftotext")) {
        self.pdfToText = pdfToText
    }

    /// The text of a file whose bytes are `bytes`, or why it has none.
    func extract(path: String, bytes: [UInt8]) -> Result<ExtractedText, SkippedFile.Reason> {
        let kind = TextKind(path: path)
        if kind == .pdf { return extractPDF(path: path) }
        if bytes.prefix(8192).contains(0) { return .failure(.binary) }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var latin1 = false
        let text: String
        if let valid = UTF8Validation.string(from: body) {
            text = valid
        } else {
            // Not UTF-8: most such text files are Latin-1 / Windows-1252, where every byte is a character.
            latin1 = true
            var decoded = ""
            decoded.unicodeScalars.append(contentsOf: body.map { Unicode.Scalar($0) })
            text = decoded
        }
        var extracted = ExtractedText(text: text, title: nil, kind: kind, decodedAsLatin1: latin1)
        if kind == .html {
            (extracted.text, extracted.title) = HTMLText.extract(text)
        }
        guard extracted.text.contains(where: { !$0.isWhitespace }) else { return .failure(.empty) }
        return .success(extracted)
    }

    private func extractPDF(path: String) -> Result<ExtractedText, SkippedFile.Reason> {
        guard let tool = pdfToText else { return .failure(.pdfToolMissing) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-q", "-enc", "UTF-8", path, "-"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(.pdfFailed("\(error)"))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(.pdfFailed(text.isEmpty ? "exit status \(process.terminationStatus)" : text))
        }
        // Pages are separated by form feeds; they start new lines.
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\u{0C}", with: "\n")
        guard text.contains(where: { !$0.isWhitespace }) else { return .failure(.empty) }
        return .success(ExtractedText(text: text, title: nil, kind: .pdf, decodedAsLatin1: false))
    }

    /// The first executable file called `name` in `$PATH`.
    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
