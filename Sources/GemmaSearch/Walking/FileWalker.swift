#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file found by a walk.
public struct WalkedFile: Sendable, Hashable {
    /// Absolute path (the root made absolute, then the names walked, symbolic links kept).
    public var path: String
    /// Size in bytes.
    public var size: Int64
    /// Modification time in nanoseconds since 1970.
    public var modified: Int64
}

/// Walks folders the way a person expects a search tool to: recursively, skipping hidden
/// entries (a name starting with `.`), paths that `.gitignore` / `.ignore` files exclude, known
/// binary file types and files over a size cap; following symbolic links but never into a
/// folder already walked (no loops). Problems with one entry are reported and the walk goes on.
struct FileWalker: Sendable {
    /// Files larger than this are reported as too large (PDFs may be 8 times larger).
    var maxFileBytes: Int64
    /// Absolute paths never returned (the index's own files).
    var excluded: Set<String> = []

    /// File name endings that are never text.
    static let binaryExtensions: Set<String> = [
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "heic", "psd", "svgz",
        "mp3", "mp4", "m4a", "wav", "flac", "ogg", "opus", "avi", "mkv", "mov", "webm",
        "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar", "war", "whl", "deb", "rpm",
        "o", "a", "so", "dylib", "dll", "exe", "bin", "iso", "dmg", "class", "pyc", "wasm",
        "woff", "woff2", "ttf", "otf", "eot", "sqlite", "sqlite3", "db", "gguf", "safetensors", "onnx", "pt", "npy",
    ]

    /// Walks `roots` (files or folders), calling `found` for every file to index and `skipped`
    /// for every file left out for a reason worth reporting (hidden and ignored paths are not reported).
    /// - Throws: ``SearchError/pathNotFound(_:)`` when a root does not exist.
    func walk(_ roots: [String], found: (WalkedFile) -> Void, skipped: (SkippedFile) -> Void) throws(SearchError) {
        var visitedFolders = Set<FolderIdentity>()
        for root in roots {
            let absolute = Self.absolute(root)
            var info = stat()
            guard stat(absolute, &info) == 0 else { throw .pathNotFound(root) }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                walkFolder(absolute, relative: "", rules: IgnoreRules(), visited: &visitedFolders, found: found, skipped: skipped)
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                consider(absolute, info: info, found: found, skipped: skipped)
            }
        }
    }

    private struct FolderIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private func walkFolder(_ path: String, relative: String, rules: IgnoreRules, visited: inout Set<FolderIdentity>,
                            found: (WalkedFile) -> Void, skipped: (SkippedFile) -> Void) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            skipped(SkippedFile(path: path, reason: .vanished))
            return
        }
        guard visited.insert(FolderIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted else {
            skipped(SkippedFile(path: path, reason: .symlinkLoop))
            return
        }
        guard let directory = opendir(path) else {
            let code = errno
            skipped(SkippedFile(path: path, reason: code == ENOENT ? .vanished : .unreadable(Self.message(code))))
            return
        }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }  // hidden, and `.` / `..`
            names.append(name)
        }
        closedir(directory)
        names.sort()
        let contents = IgnoreRules.fileNames.compactMap { TextFile.readSmall(path + "/" + $0) }
        let rules = rules.adding(relativeFolder: relative, contents: contents)
        for name in names {
            let child = path + "/" + name
            if excluded.contains(child) { continue }
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard stat(child, &info) == 0 else {
                let code = errno
                var link = stat()
                if lstat(child, &link) == 0 { continue }  // a dangling symbolic link: nothing to index
                skipped(SkippedFile(path: child, reason: code == ENOENT ? .vanished : .unreadable(Self.message(code))))
                continue
            }
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR {
                if rules.ignores(relativePath: childRelative, isDirectory: true) { continue }
                walkFolder(child, relative: childRelative, rules: rules, visited: &visited, found: found, skipped: skipped)
            } else if type == S_IFREG {
                if rules.ignores(relativePath: childRelative, isDirectory: false) { continue }
                consider(child, info: info, found: found, skipped: skipped)
            }
        }
    }

    private func consider(_ path: String, info: stat, found: (WalkedFile) -> Void, skipped: (SkippedFile) -> Void) {
        let kind = TextKind(path: path)
        if kind == .other, let dot = path.lastIndex(of: "."), Self.binaryExtensions.contains(path[path.index(after: dot)...].lowercased()) {
            skipped(SkippedFile(path: path, reason: .binary))
            return
        }
        let size = Int64(info.st_size)
        let limit = kind == .pdf ? maxFileBytes * 8 : maxFileBytes
        if size > limit {
            skipped(SkippedFile(path: path, reason: .tooLarge(bytes: size, limit: limit)))
            return
        }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        found(WalkedFile(path: path, size: size, modified: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)))
    }

    /// `path` made absolute against the working folder, with `.` and `..` components and
    /// repeated or trailing slashes removed.
    static func absolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count).map { _ in String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) } ?? "/"
            full = cwd + "/" + path
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The system's text for an `errno` value.
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
