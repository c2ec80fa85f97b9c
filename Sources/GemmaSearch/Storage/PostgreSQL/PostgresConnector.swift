import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// postgres-nio's connection pool behind the store's blocking calls.
///
/// The index's API is synchronous (it runs on the caller's thread, off the cooperative pool: the
/// server calls it from a dispatch queue). Each call runs its async work in a task on the pool
/// and waits on a semaphore for at most a deadline; the tasks run on threads of their own
/// (``PostgresExecutor``), so callers waiting on the cooperative pool cannot starve them. Work that fails because the connection was
/// lost (the server restarting, the network gone) is tried again on a new connection until the
/// deadline; every write is a transaction that replaces whole files, so trying it again after a
/// lost commit acknowledgement leaves the same rows.
final class PostgresConnector: Sendable {
    let location: PostgresLocation
    let client: PostgresClient
    private let running: Task<Void, Never>

    init(location: PostgresLocation) throws(SearchError) {
        self.location = location
        let client = PostgresClient(configuration: try location.clientConfiguration(),
                                    backgroundLogger: Logger(label: "GemmaSearch.postgres", factory: { _ in SwiftLogNoOpLogHandler() }))
        self.client = client
        running = PostgresTasks.detached { await client.run() }
    }

    deinit {
        running.cancel()
    }

    /// Runs `work` with the pool and waits for it; a lost connection is retried until `wait` has
    /// passed, and the call gives up `grace` later (a connection being made, a query finishing).
    func run<T: Sendable>(wait: Duration? = nil, grace: Duration = .seconds(2),
                          _ work: @escaping @Sendable (PostgresClient) async throws -> T) throws(SearchError) -> T {
        let wait = wait ?? location.wait
        let lastFailure = LockedValue<String?>(nil)
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let client = client
        let location = location
        let task = PostgresTasks.detached {
            let deadline = ContinuousClock.now + wait
            var pause = Duration.milliseconds(100)
            while true {
                do {
                    box.set(.success(try await work(client)))
                    break
                } catch {
                    let failure = Self.translate(error, location: location)
                    if case .storeUnavailable(_, let reason) = failure { lastFailure.value = reason }
                    guard case .storeUnavailable = failure, ContinuousClock.now + pause < deadline, !Task.isCancelled else {
                        box.set(.failure(failure))
                        break
                    }
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(2))
                }
            }
            done.signal()
        }
        let limit = wait + grace
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) * 1e-18
        if done.wait(timeout: .now() + seconds) == .timedOut {
            task.cancel()
            let reason = lastFailure.value.map { "\($0) (gave up after \(Int(seconds.rounded())) s)" }
                ?? "no connection or answer within \(Int(seconds.rounded())) s"
            throw .storeUnavailable(location: location.description, reason: reason)
        }
        guard let result = box.get() else { throw .storeUnavailable(location: location.description, reason: "the request was cancelled") }
        return try result.get()
    }

    /// A failure as a ``SearchError``: a lost or refused connection is ``SearchError/storeUnavailable(location:reason:)``.
    static func translate(_ error: any Error, location: PostgresLocation) -> SearchError {
        if let error = error as? SearchError { return error }
        // A transaction's error is the one that stopped it (begin, the work, or commit).
        if let wrapped = error as? PostgresTransactionError,
           let cause = wrapped.beginError ?? wrapped.closureError ?? wrapped.commitError {
            return translate(cause, location: location)
        }
        let place = location.description
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "\(error)"
                // Class 08: connection exceptions; 57P0x: shut down, crashed, starting up; 53300: too many connections.
                if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                    return .storeUnavailable(location: place, reason: message)
                }
                if state == "28P01" || state == "28000" {
                    return .storeUnavailable(location: place, reason: "\(message) (check the user and password in the URL, or PGPASSWORD)")
                }
                if state == "3D000" { return .storeUnavailable(location: place, reason: "\(message); create it first (CREATE DATABASE)") }
                return .storage("PostgreSQL at \(place): \(message) (SQLSTATE \(state))")
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled:
                return .storeUnavailable(location: place, reason: Self.reason(error))
            case .sslUnsupported:
                return .storeUnavailable(location: place, reason: "the server does not offer TLS, which sslmode asks for")
            default:
                return .storage("PostgreSQL at \(place): \(Self.reason(error))")
            }
        }
        if error is CancellationError { return .storeUnavailable(location: place, reason: "the request was cancelled") }
        let text = "\(error)"
        if text.contains("connectionCreationCircuitBreakerTripped") || text.contains("ConnectionPoolError") {
            return .storeUnavailable(location: place, reason: "no connection could be made to \(location.endpoint)")
        }
        if error is IOError || error is NIOConnectionError || error is ChannelError {
            return .storeUnavailable(location: place, reason: "cannot connect to \(location.endpoint): \(text)")
        }
        return .storage("PostgreSQL at \(place): \(text)")
    }

    /// What went wrong underneath a client error (refused, timed out, closed).
    private static func reason(_ error: PSQLError) -> String {
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// A value handed from the task to the waiting thread.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, SearchError>?

    func set(_ value: Result<T, SearchError>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() -> Result<T, SearchError>? {
        lock.lock()
        defer { lock.unlock() }
        return result
    }
}
