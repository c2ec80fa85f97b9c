/// The text of an HTML page: tags removed, `<script>` and `<style>` contents dropped, entities
/// decoded. Every line of the text is the same line of the source, so line numbers in results
/// point into the file as it is on disk.
enum HTMLText {
    /// The text and the page title (`<title>`, else the first `<h1>`).
    static func extract(_ html: String) -> (text: String, title: String?) {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var title: String?
        var captureTitle: String?  // the tag whose text is being collected as the title
        var captured = ""
        var index = html.startIndex
        var skipUntil: String?  // inside <script> / <style>: the closing tag looked for
        while index < html.endIndex {
            let c = html[index]
            if let closing = skipUntil {
                if c == "\n" { output.append("\n") }
                if c == "<", html[index...].prefix(closing.count).lowercased() == closing { skipUntil = nil } else {
                    index = html.index(after: index)
                    continue
                }
            }
            if c == "<" {
                guard let end = html[index...].firstIndex(of: ">") else {
                    output.append(contentsOf: html[index...])
                    break
                }
                let tag = html[html.index(after: index)..<end]
                let name = tag.prefix { $0.isLetter || $0.isNumber || $0 == "/" || $0 == "!" }.lowercased()
                output.append(contentsOf: String(repeating: "\n", count: tag.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }))
                if name == "script" || name == "style" { skipUntil = "</" + name }
                if title == nil, captureTitle == nil, name == "title" || name == "h1" {
                    captureTitle = "/" + name
                    captured = ""
                } else if let closing = captureTitle, name == closing {
                    let text = collapse(decodeEntities(captured))
                    if !text.isEmpty { title = text }
                    captureTitle = nil
                }
                if name == "title" || name == "/title" {
                    // The title is metadata, not body text.
                } else {
                    output.append(" ")
                }
                index = html.index(after: end)
                continue
            }
            if captureTitle != nil { captured.append(c) }
            if captureTitle != "/title" { output.append(c) }
            index = html.index(after: index)
        }
        let lines = decodeEntities(output).split(separator: "\n", omittingEmptySubsequences: false).map { collapse(Substring($0)) }
        return (lines.joined(separator: "\n"), title)
    }

    /// Runs of white space folded into one space, ends trimmed.
    static func collapse<S: StringProtocol>(_ text: S) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{A0}" }).joined(separator: " ")
    }

    private static let named: [String: Character] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "mdash": "—", "ndash": "–", "hellip": "…", "laquo": "«", "raquo": "»", "rsquo": "’", "lsquo": "‘",
        "rdquo": "”", "ldquo": "“", "eacute": "é", "egrave": "è", "agrave": "à", "uuml": "ü", "ouml": "ö", "auml": "ä",
        "szlig": "ß", "euro": "€", "middot": "·", "bull": "•", "times": "×",
    ]

    /// `&amp;`, `&#233;`, `&#xE9;` and common named entities decoded; unknown ones kept.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "&", let semicolon = text[index...].prefix(12).firstIndex(of: ";") {
                let entity = text[text.index(after: index)..<semicolon]
                var decoded: Character?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    decoded = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map(Character.init)
                } else if entity.hasPrefix("#") {
                    decoded = UInt32(entity.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init).map(Character.init)
                } else {
                    decoded = named[String(entity)]
                }
                if let decoded {
                    output.append(decoded)
                    index = text.index(after: semicolon)
                    continue
                }
            }
            output.append(c)
            index = text.index(after: index)
        }
        return output
    }
}
