/// The `.gitignore` and `.ignore` rules in force in one folder of a walk: the rules of every
/// folder from the walk's root down, the deepest last (the last matching rule decides).
struct IgnoreRules: Sendable {
    /// Rule files read in each folder, in this order (later files win).
    static let fileNames = [".gitignore", ".ignore"]

    private struct Level: Sendable {
        /// The folder of the rule file, relative to the walk's root, with a trailing `/` (empty for the root).
        var prefix: [UInt8]
        var patterns: [IgnorePattern]
    }

    private var levels: [Level] = []

    /// The rules of a child folder: these rules plus those of `contents` (the text of its rule files).
    /// - Parameter relativeFolder: the folder relative to the walk's root (empty for the root).
    func adding(relativeFolder: String, contents: [String]) -> IgnoreRules {
        let patterns = contents.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: true).compactMap(IgnorePattern.init(line:)) }
        guard !patterns.isEmpty else { return self }
        var copy = self
        copy.levels.append(Level(prefix: relativeFolder.isEmpty ? [] : Array(relativeFolder.utf8) + [UInt8(ascii: "/")], patterns: patterns))
        return copy
    }

    /// Whether the entry at `relativePath` (relative to the walk's root) is ignored.
    func ignores(relativePath: String, isDirectory: Bool) -> Bool {
        guard !levels.isEmpty else { return false }
        let path = Array(relativePath.utf8)
        let name: [UInt8]
        if let slash = path.lastIndex(of: UInt8(ascii: "/")) { name = Array(path[(slash + 1)...]) } else { name = path }
        var ignored = false
        for level in levels {
            guard path.starts(with: level.prefix) else { continue }
            let relative = Array(path[level.prefix.count...])
            for pattern in level.patterns where pattern.negated == ignored {
                if pattern.matches(relativePath: relative, name: name, isDirectory: isDirectory) {
                    ignored = !pattern.negated
                }
            }
        }
        return ignored
    }
}
