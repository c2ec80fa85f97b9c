/// Splits text into chunks of at most a number of **model tokens**, cut at paragraph
/// boundaries (blank lines) or Markdown headings where that keeps chunks at least half full,
/// else at line ends, with a small overlap of whole lines between chunks cut mid-paragraph.
/// A line longer than a chunk is split between words. Each chunk knows its line range, and
/// in Markdown the heading it is under becomes its title.
public struct Chunker: Sendable {
    /// Most tokens of text in a chunk.
    public var maxTokens: Int
    /// Tokens of trailing lines repeated at the start of the next chunk when a cut falls inside a paragraph.
    public var overlapTokens: Int

    /// - Parameters:
    ///   - maxTokens: most tokens of text in a chunk (at least 16).
    ///   - overlapTokens: tokens repeated between chunks cut inside a paragraph (below `maxTokens / 2`).
    public init(maxTokens: Int = 512, overlapTokens: Int = 48) {
        self.maxTokens = max(16, maxTokens)
        self.overlapTokens = max(0, min(overlapTokens, self.maxTokens / 2 - 1))
    }

    /// One line, or a piece of an over-long line.
    private struct Unit {
        var line: Int
        var text: Substring
        var tokens: Int
        var blank: Bool
        var heading: String?
        /// Whether a newline follows this unit in the source (the last piece of a line that has one).
        var terminated: Bool
    }

    /// The chunks of `text`.
    /// - Parameters:
    ///   - kind: `.markdown` makes headings titles and preferred cut points.
    ///   - title: a title for chunks without a heading (an HTML page's title).
    ///   - countTokens: the model's token count of a piece of text.
    public func chunks(of text: String, kind: TextKind = .other, title: String? = nil, countTokens: (Substring) -> Int) -> [TextChunk] {
        let units = self.units(of: text, markdown: kind == .markdown, countTokens: countTokens)
        var chunks: [TextChunk] = []
        var currentTitle = title
        var titleAt: [String?] = []  // the title in force at each unit
        titleAt.reserveCapacity(units.count)
        for unit in units {
            if let heading = unit.heading { currentTitle = heading }
            titleAt.append(currentTitle)
        }
        var start = 0
        while start < units.count {
            while start < units.count, units[start].blank { start += 1 }
            guard start < units.count else { break }
            var end = start
            var tokens = 0
            var paragraphEnd: Int?  // a cut point after a blank line or before a heading
            while end < units.count, end == start || tokens + units[end].tokens <= maxTokens {
                if end > start, units[end].heading != nil {
                    if tokens >= maxTokens / 4 { break }
                    paragraphEnd = end
                }
                tokens += units[end].tokens
                if units[end].blank { paragraphEnd = end + 1 }
                end += 1
            }
            var cutInParagraph = false
            if end < units.count, units[end].heading == nil, !units[end - 1].blank {
                if let paragraphEnd, paragraphEnd - start >= (end - start) / 2, paragraphEnd > start {
                    end = paragraphEnd
                } else {
                    cutInParagraph = true
                }
            }
            var last = end - 1
            while last > start, units[last].blank { last -= 1 }
            let piece = units[start...last]
            chunks.append(TextChunk(
                // The lines exactly as in the file, the last one's newline included.
                text: piece.map(\.text).joined(separator: "\n") + (units[last].terminated ? "\n" : ""),
                title: titleAt[start],
                startLine: units[start].line,
                endLine: units[last].line,
                tokenCount: piece.reduce(0) { $0 + $1.tokens }
            ))
            guard end < units.count else { break }
            var next = end
            if cutInParagraph {
                var overlap = 0
                while next - 1 > start, overlap + units[next - 1].tokens <= overlapTokens {
                    overlap += units[next - 1].tokens
                    next -= 1
                }
            }
            start = next
        }
        return chunks
    }

    /// Lines with their token counts (a newline counted as one token), over-long lines split
    /// between words, trailing blank lines dropped.
    private func units(of text: String, markdown: Bool, countTokens: (Substring) -> Int) -> [Unit] {
        var units: [Unit] = []
        var inFence = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let terminated = index + 1 < lines.count
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            let blank = line.allSatisfy(\.isWhitespace)
            var heading: String?
            if markdown {
                let trimmed = line.drop(while: { $0 == " " })
                if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle() }
                if !inFence { heading = Self.markdownHeading(line) }
            }
            let tokens = blank ? 1 : countTokens(line) + 1
            if tokens <= maxTokens {
                units.append(Unit(line: index + 1, text: line, tokens: tokens, blank: blank, heading: heading, terminated: terminated))
            } else {
                let pieces = split(line, countTokens: countTokens)
                for (p, piece) in pieces.enumerated() {
                    units.append(Unit(line: index + 1, text: piece, tokens: countTokens(piece) + 1, blank: false, heading: nil,
                                      terminated: terminated && p == pieces.count - 1))
                }
            }
        }
        while let last = units.last, last.blank { units.removeLast() }
        return units
    }

    /// An over-long line in pieces of at most `maxTokens − 1` tokens, cut after spaces where there
    /// are any (else anywhere, by halving).
    private func split(_ line: Substring, countTokens: (Substring) -> Int) -> [Substring] {
        var pieces: [Substring] = []
        var rest = line
        let limit = maxTokens - 1
        while !rest.isEmpty {
            if countTokens(rest) <= limit {
                pieces.append(rest)
                break
            }
            // The longest prefix that fits, by bisection over character offsets.
            var low = 1, high = rest.count
            while low < high {
                let mid = (low + high + 1) / 2
                if countTokens(rest.prefix(mid)) <= limit { low = mid } else { high = mid - 1 }
            }
            var cut = rest.index(rest.startIndex, offsetBy: low)
            if let space = rest[..<cut].lastIndex(of: " "), rest.distance(from: rest.startIndex, to: space) > low / 2 {
                cut = rest.index(after: space)
            }
            pieces.append(rest[..<cut])
            rest = rest[cut...]
        }
        return pieces
    }

    /// The text of a Markdown ATX heading (`## Install ##` → `Install`), nil for other lines.
    static func markdownHeading(_ line: Substring) -> String? {
        let indent = line.prefix(while: { $0 == " " })
        guard indent.count <= 3 else { return nil }
        let rest = line.dropFirst(indent.count)
        let hashes = rest.prefix(while: { $0 == "#" })
        guard (1...6).contains(hashes.count) else { return nil }
        let after = rest.dropFirst(hashes.count)
        guard after.isEmpty || after.first == " " || after.first == "\t" else { return nil }
        var text = after.trimmingWhitespace()
        while text.last == "#" { text = text.dropLast() }
        let title = text.trimmingWhitespace()
        return title.isEmpty ? nil : String(title)
    }
}
