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
    /// The pool, its background task and its number (a pool that cannot connect is replaced).
    private let pool: LockedValue<Pool>
    /// How long one attempt waits for a connection from the pool before the pool is replaced
    /// (at most; a call that waits less for the database waits as long for a connection).
    static let leaseTimeout: Duration = .seconds(5)

    private struct Pool: Sendable {
        var client: PostgresClient
        var running: Task<Void, Never>
        var number: Int
        var started: ContinuousClock.Instant
    }

    init(location: PostgresLocation) throws(SearchError) {
        self.location = location
        pool = LockedValue(try Self.makePool(location, number: 0))
    }

    deinit {
        pool.value.running.cancel()
    }

    private static func makePool(_ location: PostgresLocation, number: Int) throws(SearchError) -> Pool {
        let client = PostgresClient(configuration: try location.clientConfiguration(),
                                    backgroundLogger: Logger(label: "GemmaSearch.postgres", factory: { _ in SwiftLogNoOpLogHandler() }))
        return Pool(client: client, running: PostgresTasks.detached { await client.run() }, number: number, started: .now)
    }

    /// Replaces pool `number` (unless another caller already did, or it is younger than a second):
    /// a fresh pool connects at once, where one that watched the server go away may wait out its
    /// back-off.
    /// Replaces pool `number` (unless another caller already did, or it is younger than a second):
    /// a fresh pool connects at once, where one that watched the server go away may wait out its
    /// back-off. The old pool is closed (its queued leases fail and are tried again on the new one).
    private func replacePool(_ number: Int) {
        var retired: Task<Void, Never>?
        pool.update { current in
            guard current.number == number, current.started.duration(to: .now) > .seconds(1),
                  let fresh = try? Self.makePool(location, number: number + 1) else { return }
            retired = current.running
            current = fresh
        }
        retired?.cancel()
    }

    /// Runs `work` on a connection from the pool and waits for it. A lost connection, or none
    /// within ``leaseTimeout``, is tried again (on a new pool) until `wait` has passed; the call
    /// gives up `grace` later (a query finishing).
    func run<T: Sendable>(wait: Duration? = nil, grace: Duration = .seconds(2),
                          _ work: @escaping @Sendable (PostgresConnection) async throws -> T) throws(SearchError) -> T {
        let wait = wait ?? location.wait
        let leaseTimeout = max(min(wait, Self.leaseTimeout), .seconds(1))
        let lastFailure = LockedValue<String?>(nil)
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let location = location
        let task = PostgresTasks.detached { [self] in
            let deadline = ContinuousClock.now + wait
            var pause = Duration.milliseconds(100)
            while true {
                let current = pool.value
                do {
                    box.set(.success(try await Self.attempt(work, on: current.client, leaseTimeout: leaseTimeout)))
                    break
                } catch {
                    let failure = Self.translate(error, location: location)
                    if case .storeUnavailable(_, let reason) = failure { lastFailure.value = reason }
                    guard case .storeUnavailable = failure, ContinuousClock.now + pause < deadline, !Task.isCancelled else {
                        box.set(.failure(failure))
                        break
                    }
                    replacePool(current.number)
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(2))
                }
            }
            done.signal()
        }
        let limit = wait + grace + leaseTimeout
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

    /// Runs `work` once, outside the pool (the store's first connection), waiting at most `limit`.
    func once<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async throws -> T) throws(SearchError) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let location = location
        let task = PostgresTasks.detached {
            do { box.set(.success(try await work())) } catch { box.set(.failure(Self.translate(error, location: location))) }
            done.signal()
        }
        let seconds = Double(limit.components.seconds)
        if done.wait(timeout: .now() + seconds) == .timedOut {
            task.cancel()
            throw .storeUnavailable(location: location.description, reason: "no answer from \(location.endpoint) within \(Int(seconds)) s")
        }
        guard let result = box.get() else { throw .storeUnavailable(location: location.description, reason: "the request was cancelled") }
        return try result.get()
    }

    /// One try: a connection leased within ``leaseTimeout`` (else ``LeaseTimeout``), then `work`
    /// on it for as long as it takes. The lease runs in a task of its own, given up (cancelled)
    /// when late: the pool may not notice a cancelled lease at once, and no one waits for it.
    private static func attempt<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T,
                                             on client: PostgresClient, leaseTimeout: Duration) async throws -> T {
        let race = LeaseRace()
        let task = PostgresTasks.detachedThrowing { () async throws -> T in
            defer { _ = race.finish(true) }
            return try await client.withConnection { connection in
                // Leased after the attempt was given up: leave the connection to the pool.
                guard race.finish(true) else { throw CancellationError() }
                return try await work(connection)
            }
        }
        let timer = PostgresTasks.detached {
            try? await Task.sleep(for: leaseTimeout)
            _ = race.finish(false)
        }
        let inTime = await race.wait()
        timer.cancel()
        guard inTime else {
            task.cancel()
            throw LeaseTimeout()
        }
        return try await task.value
    }

    /// No connection from the pool within ``leaseTimeout``.
    struct LeaseTimeout: Error {}

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
                // Tried again: class 08 (connection exceptions); 57P0x (shut down, crashed, starting up);
                // 53300 (too many connections); 40001 and 40P01 (serialization failure, deadlock).
                if state.hasPrefix("08") || state.hasPrefix("57P") || ["53300", "40001", "40P01"].contains(state) {
                    return .storeUnavailable(location: place, reason: message)
                }
                // Not tried again: a wrong login or database stays wrong.
                if state == "28P01" || state == "28000" {
                    return .storage("PostgreSQL at \(place): \(message) (check the user and password in the URL, or PGPASSWORD)")
                }
                if state == "3D000" { return .storage("PostgreSQL at \(place): \(message); create it first (CREATE DATABASE)") }
                return .storage("PostgreSQL at \(place): \(message) (SQLSTATE \(state))")
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled:
                return .storeUnavailable(location: place, reason: Self.reason(error))
            case .sslUnsupported:
                return .storage("PostgreSQL at \(place): the server does not offer TLS, which sslmode asks for")
            default:
                return .storage("PostgreSQL at \(place): \(Self.reason(error))")
            }
        }
        if error is LeaseTimeout {
            return .storeUnavailable(location: place, reason: "no connection to \(location.endpoint)")
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

/// Which came first: a connection (or the attempt's end), or the lease timeout.
private final class LeaseRace: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Bool?
    private var waiter: CheckedContinuation<Bool, Never>?

    /// Records the first outcome (true: leased or ended; false: timed out) and wakes the waiter;
    /// returns whether this outcome was the first (a lease that lost to the timeout must not work).
    func finish(_ value: Bool) -> Bool {
        lock.lock()
        guard outcome == nil else {
            lock.unlock()
            return false
        }
        outcome = value
        let waiting = waiter
        waiter = nil
        lock.unlock()
        waiting?.resume(returning: value)
        return true
    }

    func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let outcome {
                lock.unlock()
                continuation.resume(returning: outcome)
                return
            }
            waiter = continuation
            lock.unlock()
        }
    }
}
