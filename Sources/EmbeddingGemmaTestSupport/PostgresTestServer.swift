import Foundation

/// A real PostgreSQL server with pgvector for tests, run by `scripts/postgres.sh` (the bundled
/// PostgreSQL 18, as an unprivileged user when the tests run as root).
///
/// ``shared`` is the server `scripts/test.sh` started for the whole run (`GEMMA_TEST_POSTGRES_DIR`);
/// tests that stop and restart a database start one of their own with ``start(in:)``.
public struct PostgresTestServer: Sendable {
    /// The server's folder (data, socket, URL files).
    public let folder: String
    /// The superuser URL over loopback TCP.
    public let url: String

    /// The run's server, nil when none was started (the tests that need one then skip, or fail
    /// when `EMBEDDINGGEMMA_REQUIRE_POSTGRES=1`).
    public static let shared: PostgresTestServer? = {
        guard let folder = ProcessInfo.processInfo.environment["GEMMA_TEST_POSTGRES_DIR"], !folder.isEmpty,
              let url = try? String(contentsOfFile: folder + "/url", encoding: .utf8) else { return nil }
        return PostgresTestServer(folder: folder, url: url.trimmingCharacters(in: .whitespacesAndNewlines))
    }()

    /// Whether a missing server is a failure rather than a reason to skip.
    public static var required: Bool { ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_POSTGRES"] == "1" }

    /// Whether tests can start servers of their own (the bundled PostgreSQL is installed).
    public static var installed: Bool {
        (try? script(["bin"]))?.isEmpty == false
    }

    /// The project's `scripts/postgres.sh`.
    public static let scriptPath: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/scripts/postgres.sh"
    }()

    /// Starts a server of its own in `folder` (a new one, or the one stopped there before, on the same port).
    public static func start(in folder: String) throws -> PostgresTestServer {
        let output = try script(["start", folder])
        guard let url = output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw PostgresTestError("scripts/postgres.sh start printed no URL: \(output)")
        }
        return PostgresTestServer(folder: folder, url: url)
    }

    /// The URL of a Unix-socket connection to the same database.
    public var socketURL: String {
        get throws { try String(contentsOfFile: folder + "/socket-url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Stops the server (fast shutdown, waited for).
    public func stop() throws { _ = try Self.script(["stop", folder]) }

    /// Kills the server with SIGKILL (a crash), waited for.
    public func kill() throws { _ = try Self.script(["kill", folder]) }

    /// Starts this server again after ``stop()`` or ``kill()``.
    public func restart() throws { _ = try Self.script(["start", folder]) }

    /// Runs SQL as the superuser in `database` and returns psql's unaligned output.
    @discardableResult
    public func sql(_ statement: String, database: String = "gemma") throws -> String {
        try Self.script(["psql", folder, "-X", "-v", "ON_ERROR_STOP=1", "-tA", "-d", database, "-c", statement])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates a new empty database and returns its URL (the server's, with another database name).
    public func makeDatabase(_ prefix: String = "gemma_test") throws -> String {
        let name = prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        try sql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// The server's URL naming `database`.
    public func url(database: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards) else { return url }
        return String(url[..<slash.upperBound]) + database
    }

    @discardableResult
    static func script(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [scriptPath] + arguments
        // Patience for a server starting on a machine busy with the rest of the tests.
        var environment = ProcessInfo.processInfo.environment
        if environment["GEMMA_POSTGRES_START_TIMEOUT"] == nil { environment["GEMMA_POSTGRES_START_TIMEOUT"] = "120" }
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaints = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresTestError("scripts/postgres.sh \(arguments.joined(separator: " ")) failed: \(String(decoding: complaints, as: UTF8.self))")
        }
        return String(decoding: printed, as: UTF8.self)
    }
}

/// A test server that could not be started or used.
public struct PostgresTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
