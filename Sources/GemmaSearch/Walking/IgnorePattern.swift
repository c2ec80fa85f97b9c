/// One line of a `.gitignore` / `.ignore` file, with git's matching rules: `*` and `?` do not
/// cross `/`, `**` does, `[a-z]` / `[!a-z]` classes, a leading `!` re-includes, a trailing `/`
/// matches folders only, and a pattern with a `/` before its end is anchored to the folder of
/// its file (otherwise it matches a name at any depth below it).
struct IgnorePattern: Sendable, Equatable {
    /// The glob, without `!`, leading `/` or trailing `/`.
    let glob: [UInt8]
    /// A `!` pattern: matching paths are included again.
    let negated: Bool
    /// A trailing `/`: only folders match.
    let directoryOnly: Bool
    /// Matched against the path relative to the rule file's folder, not only the last name.
    let anchored: Bool

    /// Parses one line; nil for blank lines and comments.
    init?(line: Substring) {
        var text = Array(line.utf8)
        if text.last == UInt8(ascii: "\r") { text.removeLast() }
        // Trailing spaces are ignored unless escaped.
        while let last = text.last, last == UInt8(ascii: " "), !(text.count >= 2 && text[text.count - 2] == UInt8(ascii: "\\")) {
            text.removeLast()
        }
        guard let first = text.first, first != UInt8(ascii: "#") else { return nil }
        var negated = false
        if first == UInt8(ascii: "!") {
            negated = true
            text.removeFirst()
        } else if first == UInt8(ascii: "\\"), text.count > 1, text[1] == UInt8(ascii: "#") || text[1] == UInt8(ascii: "!") {
            text.removeFirst()
        }
        var directoryOnly = false
        if text.last == UInt8(ascii: "/") {
            directoryOnly = true
            text.removeLast()
        }
        guard !text.isEmpty else { return nil }
        let anchored = text.contains(UInt8(ascii: "/"))
        if text.first == UInt8(ascii: "/") { text.removeFirst() }
        guard !text.isEmpty else { return nil }
        self.glob = text
        self.negated = negated
        self.directoryOnly = directoryOnly
        self.anchored = anchored
    }

    /// Whether the pattern matches `relativePath` (relative to the rule file's folder, `/`-separated).
    func matches(relativePath: [UInt8], name: [UInt8], isDirectory: Bool) -> Bool {
        if directoryOnly && !isDirectory { return false }
        if anchored {
            return Self.match(glob[...], relativePath[...])
        }
        return Self.match(glob[...], name[...])
    }

    /// Glob matching with git's wildmatch rules (iterative backtracking for `*`, recursion for `**`).
    static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
        var p = pattern.startIndex, t = text.startIndex
        var starP: Int? = nil, starT = 0
        while t < text.endIndex {
            if p < pattern.endIndex, pattern[p] == star {
                if p + 1 < pattern.endIndex, pattern[p + 1] == star {
                    // `**`: any number of characters, slashes included; `**/` may also match nothing.
                    var rest = p + 2
                    var atComponent = false
                    if rest < pattern.endIndex, pattern[rest] == slash {
                        rest += 1
                        atComponent = true
                    }
                    var u = t
                    while true {
                        let boundary = !atComponent || u == t || text[u - 1] == slash
                        if boundary, match(pattern[rest...], text[u...]) { return true }
                        if u == text.endIndex { return false }
                        u += 1
                    }
                }
                starP = p
                starT = t
                p += 1
                continue
            }
            if p < pattern.endIndex, let consumed = matchOne(pattern, at: p, text[t]) {
                p = consumed
                t += 1
                continue
            }
            // Backtrack: the last `*` takes one more character, but never a `/`.
            if let sp = starP, text[starT] != slash {
                starT += 1
                t = starT
                p = sp + 1
                continue
            }
            return false
        }
        while p < pattern.endIndex, pattern[p] == star { p += 1 }
        return p == pattern.endIndex
    }

    /// Matches one pattern element (a literal, `?`, `\x` or a `[...]` class) at `p` against `c`;
    /// returns the index after the element when it matches.
    private static func matchOne(_ pattern: ArraySlice<UInt8>, at p: Int, _ c: UInt8) -> Int? {
        let byte = pattern[p]
        switch byte {
        case UInt8(ascii: "?"):
            return c == UInt8(ascii: "/") ? nil : p + 1
        case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
            return pattern[p + 1] == c ? p + 2 : nil
        case UInt8(ascii: "["):
            var i = p + 1
            var negate = false
            if i < pattern.endIndex, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") {
                negate = true
                i += 1
            }
            var found = false
            var firstElement = true
            while i < pattern.endIndex, pattern[i] != UInt8(ascii: "]") || firstElement {
                firstElement = false
                let low = pattern[i]
                if i + 2 < pattern.endIndex, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                    if low <= c && c <= pattern[i + 2] { found = true }
                    i += 3
                } else {
                    if low == c { found = true }
                    i += 1
                }
            }
            guard i < pattern.endIndex else { return c == byte ? p + 1 : nil }  // no closing `]`: a literal `[`
            return (found != negate) && c != UInt8(ascii: "/") ? i + 1 : nil
        default:
            return byte == c ? p + 1 : nil
        }
    }
}
