import EmbeddingGemmaTestSupport
import Foundation
import Testing
@testable import GemmaSearch

@Suite("Walking folders")
struct FileWalkerTests {
    /// A tree with hidden entries, ignore files, binary and large files, odd names and a symlink loop.
    static func makeTree() throws -> String {
        let root = ScratchDirectory("walk").path
        let fm = FileManager.default
        for folder in ["a/b", ".hidden", "build", "keep/gen", "logs"] {
            try fm.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        let files: [String: String] = [
            "top.txt": "top", "a/one.md": "# one", "a/b/two.py": "print(2)", ".secret.txt": "hidden",
            ".hidden/inside.txt": "hidden", "build/out.txt": "ignored", "keep/gen/x.txt": "kept", "logs/app.log": "ignored log",
            "logs/important.log": "re-included", "name with spaces & ünïcødé.txt": "odd", ".gitignore": "build/\n*.log\n!important.log\n",
            "keep/.ignore": "/gen/\n", "a/image.png": "not really a png",
        ]
        for (name, content) in files { try content.write(toFile: root + "/" + name, atomically: true, encoding: .utf8) }
        try String(repeating: "x", count: 5000).write(toFile: root + "/big.txt", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: root + "/a/b/loop", withDestinationPath: root + "/a")
        try fm.createSymbolicLink(atPath: root + "/dangling.txt", withDestinationPath: root + "/nowhere")
        return root
    }

    @Test("skips hidden and ignored paths, binary types and large files, follows links without looping")
    func walk() throws {
        let root = try Self.makeTree()
        var found: [String] = []
        var skipped: [SkippedFile] = []
        try FileWalker(maxFileBytes: 1000).walk([root], found: { found.append($0.path) }, skipped: { skipped.append($0) })
        let relative = Set(found.map { String($0.dropFirst(root.count + 1)) })
        #expect(relative == ["top.txt", "a/one.md", "a/b/two.py", "logs/important.log", "name with spaces & ünïcødé.txt"])
        let reasons = Dictionary(skipped.map { (String($0.path.dropFirst(root.count + 1)), $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["big.txt"] == .tooLarge(bytes: 5000, limit: 1000))
        #expect(reasons["a/image.png"] == .binary)
        #expect(reasons["a/b/loop"] == .symlinkLoop)
        #expect(skipped.count == 3)
    }

    @Test("a missing root is an error; a file root is walked as itself; paths are made absolute")
    func roots() throws {
        let root = try Self.makeTree()
        #expect(throws: SearchError.pathNotFound(root + "/missing")) {
            try FileWalker(maxFileBytes: 1000).walk([root + "/missing"], found: { _ in }, skipped: { _ in })
        }
        var found: [WalkedFile] = []
        try FileWalker(maxFileBytes: 1000).walk([root + "/a/../top.txt"], found: { found.append($0) }, skipped: { _ in })
        #expect(found.map(\.path) == [root + "/top.txt"])
        #expect(found.first?.size == 3)
        #expect(FileWalker.absolute("/x/./y//z/../w/") == "/x/y/w")
    }

    @Test("an unreadable folder is reported and the walk goes on", .enabled(if: getuid() != 0, "root reads every folder"))
    func unreadable() throws {
        let root = try Self.makeTree()
        chmod(root + "/a", 0)
        defer { chmod(root + "/a", 0o755) }
        var skipped: [SkippedFile] = []
        var found: [String] = []
        try FileWalker(maxFileBytes: 1000).walk([root], found: { found.append($0.path) }, skipped: { skipped.append($0) })
        #expect(skipped.contains { $0.path == root + "/a" })
        #expect(found.contains(root + "/top.txt"))
    }
}
