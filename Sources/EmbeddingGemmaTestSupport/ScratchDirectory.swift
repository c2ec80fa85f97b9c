import Foundation

/// A fresh folder for one test's files, inside a per-process folder under the system's temporary
/// directory that is removed when the test process exits.
public struct ScratchDirectory: Sendable {
    /// The folder's path.
    public let path: String

    /// Creates `<tmp>/embeddinggemma-tests-<pid>/<prefix>-<uuid>`.
    public init(_ prefix: String) {
        _ = ScratchRoot.removedAtExit
        path = ScratchRoot.path + "/\(prefix)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to `name` in the folder and returns the file's path.
    public func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// The per-process parent of every ``ScratchDirectory``.
enum ScratchRoot {
    /// `<tmp>/embeddinggemma-tests-<pid>`.
    static let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("embeddinggemma-tests-\(ProcessInfo.processInfo.processIdentifier)").path

    /// Registers the removal of ``path`` at process exit, once.
    static let removedAtExit: Void = {
        atexit { try? FileManager.default.removeItem(atPath: ScratchRoot.path) }
    }()
}
