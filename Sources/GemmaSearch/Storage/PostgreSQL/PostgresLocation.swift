import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL index lives and how to reach it, read from a URL:
/// `postgres://user:password@host:port/database?name=value&…` (`postgresql://` too).
///
/// Parameters: `host=/path/to/socket-folder` (a Unix socket, as libpq reads it); `sslmode=disable`,
/// `prefer` (the default: TLS when the server offers it), `require` (TLS, certificate not checked)
/// or `verify-full` (TLS, certificate and host checked); for a new index, `vector_index=halfvec`
/// (the default: HNSW over half-precision copies of the vectors), `vector` (HNSW over float32),
/// `bit` (HNSW over sign bits, candidates re-ranked exactly) or `none` (exact scans only), with
/// HNSW's `m` (16) and `ef_construction` (64); for searching, `ef_search` (100) and `wait` (the
/// seconds a search waits for an unreachable database before failing; 10). A user, password or
/// database left out comes from `PGUSER`, `PGPASSWORD`, `PGDATABASE` as libpq takes them.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the store's approximate nearest-neighbour index is built.
    public enum VectorIndex: String, Sendable, Hashable, CaseIterable {
        /// HNSW over `halfvec` copies of the vectors (`halfvec_cosine_ops`): half the index size.
        case halfvec
        /// HNSW over the float32 vectors (`vector_cosine_ops`).
        case vector
        /// HNSW over `binary_quantize(embedding)::bit(n)` (Hamming), candidates re-ranked exactly.
        case bit
        /// No approximate index: every search scans every vector exactly.
        case none
    }

    public var user: String
    var password: String?
    public var database: String
    /// The TCP host, when not a Unix socket.
    public var host: String
    public var port: Int
    /// The folder holding the server's Unix socket, when connecting through one.
    public var socketFolder: String?
    /// `disable`, `prefer`, `require` or `verify-full`.
    public var sslMode: String
    public var vectorIndex: VectorIndex
    public var m: Int
    public var efConstruction: Int
    public var efSearch: Int
    /// How long a search waits for the database to come back before it fails.
    public var wait: Duration

    /// Whether `location` names a PostgreSQL database (a `postgres://` or `postgresql://` URL)
    /// rather than an index file.
    public static func isDatabaseURL(_ location: String) -> Bool {
        let lower = location.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Reads a `postgres://` URL.
    /// - Throws: ``SearchError/invalidOption(_:)`` naming the part that is wrong.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(SearchError) {
        guard Self.isDatabaseURL(text), let components = URLComponents(string: text) else {
            throw .invalidOption("'\(Self.redacting(text))' is not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        user = components.percentEncodedUser?.removingPercentEncoding ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        if let encoded = components.percentEncodedPassword {
            guard let decoded = encoded.removingPercentEncoding else {
                throw .invalidOption("the password in the PostgreSQL URL has a stray '%'; write it as %25")
            }
            password = decoded
        } else {
            password = environment["PGPASSWORD"]
        }
        let path = components.percentEncodedPath.removingPercentEncoding ?? ""
        let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
        database = name.isEmpty ? (environment["PGDATABASE"] ?? user) : name
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        sslMode = "prefer"
        vectorIndex = .halfvec
        m = 16
        efConstruction = 64
        efSearch = 100
        wait = .seconds(10)
        guard (1...65535).contains(port) else { throw .invalidOption("the port in the PostgreSQL URL must be 1 to 65535 (got \(port))") }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "host":
                guard value.hasPrefix("/") else { throw .invalidOption("host= in the PostgreSQL URL must be an absolute socket folder (got '\(value)')") }
                socketFolder = value
            case "sslmode":
                guard ["disable", "prefer", "require", "verify-full"].contains(value) else {
                    throw .invalidOption("sslmode must be disable, prefer, require or verify-full (got '\(value)')")
                }
                sslMode = value
            case "vector_index":
                guard let kind = VectorIndex(rawValue: value) else {
                    throw .invalidOption("vector_index must be one of \(VectorIndex.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(value)')")
                }
                vectorIndex = kind
            case "m": m = try Self.integer(value, name: "m", in: 2...100)
            case "ef_construction": efConstruction = try Self.integer(value, name: "ef_construction", in: 4...1000)
            case "ef_search": efSearch = try Self.integer(value, name: "ef_search", in: 1...1000)
            case "wait": wait = .seconds(try Self.integer(value, name: "wait", in: 1...3600))
            default:
                throw .invalidOption("unknown parameter '\(item.name)' in the PostgreSQL URL (known: host, sslmode, vector_index, m, ef_construction, ef_search, wait)")
            }
        }
        guard efConstruction >= 2 * m else {
            throw .invalidOption("ef_construction (\(efConstruction)) must be at least twice m (\(m))")
        }
    }

    private static func integer(_ value: String, name: String, in range: ClosedRange<Int>) throws(SearchError) -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw .invalidOption("\(name) in the PostgreSQL URL must be a whole number from \(range.lowerBound) to \(range.upperBound) (got '\(value)')")
        }
        return number
    }

    /// The URL without its password, as messages show it.
    public var description: String {
        let user = self.user.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? self.user
        let database = self.database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? self.database
        var text = "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        if let socketFolder { text += "?host=\(socketFolder)" }
        return text
    }

    /// Where messages say the server is: the socket, or host and port.
    var endpoint: String {
        socketFolder.map { "the socket \($0)/.s.PGSQL.\(port)" } ?? "\(host):\(port)"
    }

    /// `location` as messages show it: a PostgreSQL URL without its password, a file path as it is.
    public static func redacted(_ location: String) -> String {
        guard isDatabaseURL(location) else { return location }
        return (try? PostgresLocation(url: location, environment: [:]).description) ?? redacting(location)
    }

    /// A URL with its password (if any) replaced, for messages about a URL that did not parse.
    static func redacting(_ text: String) -> String {
        // The last "@" before the path ends the credentials (a password may hold an unencoded "@").
        guard let scheme = text.range(of: "://") else { return text }
        let authority = text[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// The connection pool's configuration.
    func clientConfiguration() throws(SearchError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketFolder {
            configuration = .init(unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: try clientTLS())
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 32
        configuration.options.connectionIdleTimeout = .seconds(60)
        return configuration
    }

    /// One connection's configuration (to check the database before the pool starts).
    func connectionConfiguration() throws(SearchError) -> PostgresConnection.Configuration {
        if let socketFolder {
            return .init(unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch sslMode {
            case "disable": tls = .disable
            case "prefer": tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
            default: tls = .require(try NIOSSLContext(configuration: tlsConfiguration()))
            }
        } catch {
            throw .invalidOption("cannot set up TLS for \(self): \(error)")
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    private func clientTLS() throws(SearchError) -> PostgresClient.Configuration.TLS {
        switch sslMode {
        case "disable": return .disable
        case "prefer": return .prefer(tlsConfiguration())
        default: return .require(tlsConfiguration())
        }
    }

    /// libpq's meaning: `prefer` and `require` encrypt without checking the certificate,
    /// `verify-full` checks it against the system's roots and the host name.
    private func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if sslMode != "verify-full" { configuration.certificateVerification = .none }
        return configuration
    }
}
