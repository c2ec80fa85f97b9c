import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// postgres-nio's connection pool behind the store's blocking calls.
///
/// The index's API is synchronous (it runs on the caller's thread, off the cooperative pool: the
/// server calls it from a thread pool of its own). Each call runs its async work in a task on the pool
/// and waits on a semaphore for at most a deadline. Nothing on that path waits for Swift's
/// cooperative threads or the global dispatch queue, which a loaded process can keep busy for
/// minutes: the tasks run on threads of their own (``PostgresExecutor``), and deadlines and
/// pauses are event-loop timers (``PostgresTimer``), not `Task.sleep`.
///
/// Work that fails because the connection was lost (the server restarting, the network gone) is
/// tried again until the deadline; every write is a transaction that replaces whole files, so
/// trying it again after a lost commit acknowledgement leaves the same rows. A pool that lost its
/// connections is not asked again: postgres-nio's pool waits out a back-off between connection
/// attempts, and that back-off is a `Task.sleep`. Instead each try first connects once on its own
/// (a probe, bounded by an event-loop timer); once a probe gets in, a fresh pool replaces the old
/// one and connects at once. Work whose connection closes under it is given up and tried again
/// (``whileOpen(_:_:)``).
final class PostgresConnector: Sendable {
    let location: PostgresLocation
    /// One connection's configuration (TLS context made once): the store's first connection and the probes.
    let connectionConfiguration: PostgresConnection.Configuration
    private let clientConfiguration: PostgresClient.Configuration
    /// The pool, its background task, its number and whether it lost its connections.
    private let pool: LockedValue<Pool>
    /// How long one attempt waits for a connection from the pool, or for a probe to connect, before it
    /// counts as failed (at most; a call that waits less for the database waits as long for a connection).
    static let leaseTimeout: Duration = .seconds(5)
    /// How long a replaced pool is kept before it is closed (with any connection still leased
    /// from it): work running on it has this long to finish.
    static let retirement: Duration = .seconds(30)
    private static let logger = Logger(label: "GemmaSearch.postgres")
    private static let quiet = Logger(label: "GemmaSearch.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    private struct Pool: Sendable {
        var client: PostgresClient
        var running: Task<Void, Never>
        var number: Int
        /// A call lost its connection on this pool, or got none: the next one probes first.
        var failed = false
        /// When a call last got a connection from it: a pool that hands out connections is busy,
        /// not broken, when another call times out waiting for one.
        var lastLeased: ContinuousClock.Instant?
    }

    init(location: PostgresLocation) throws(SearchError) {
        self.location = location
        connectionConfiguration = try location.connectionConfiguration()
        clientConfiguration = try location.clientConfiguration()
        pool = LockedValue(Self.makePool(clientConfiguration, number: 0))
    }

    deinit {
        pool.value.running.cancel()
    }

    private static func makePool(_ configuration: PostgresClient.Configuration, number: Int) -> Pool {
        let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        return Pool(client: client, running: PostgresTasks.detached { await client.run() }, number: number)
    }

    /// Runs `work` on a connection from the pool and waits for it. A lost connection, or none
    /// within ``leaseTimeout``, is tried again (after a probe, on a fresh pool) until `wait` has
    /// passed; the call gives up `grace` later (a query finishing).
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
                var used: Int?
                let tried = ContinuousClock.now
                do {
                    let current = try await usablePool(probingWithin: leaseTimeout)
                    used = current.number
                    let number = current.number
                    box.set(.success(try await Self.attempt(work, on: current.client, leaseTimeout: leaseTimeout,
                                                            leased: { [self] in recordLease(from: number) })))
                    break
                } catch {
                    let failure = Self.translate(error, location: location)
                    guard case .storeUnavailable(_, let reason) = failure else {
                        box.set(.failure(failure))
                        break
                    }
                    lastFailure.value = reason
                    if let used, !Self.isTransactionConflict(error) {
                        poolFailed(used, reason: reason, unlessLeasedSince: error is LeaseTimeout ? tried : nil)
                    }
                    let now = ContinuousClock.now
                    guard now < deadline, !Task.isCancelled else {
                        box.set(.failure(failure))
                        break
                    }
                    // The last pause ends at the deadline, and one more try follows it.
                    await PostgresTimer.sleep(for: min(pause, now.duration(to: deadline)))
                    pause = min(pause * 2, .seconds(1))
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

    // MARK: The pool

    /// The pool to lease from: the current one, or, when it lost its connections, a fresh one
    /// once a probe shows that the database takes connections again (else the probe's error).
    private func usablePool(probingWithin limit: Duration) async throws -> Pool {
        let current = pool.value
        guard current.failed else { return current }
        try await probe(within: limit)
        return replacePool(current.number)
    }

    /// Marks pool `number` as having lost its connections (unless it was replaced meanwhile, or,
    /// with `since`, it handed a connection to another call after that instant: busy, not broken).
    private func poolFailed(_ number: Int, reason: String, unlessLeasedSince since: ContinuousClock.Instant? = nil) {
        pool.update { current in
            guard current.number == number, !current.failed else { return }
            if let since, let leased = current.lastLeased, leased > since { return }
            current.failed = true
            Self.logger.debug("PostgreSQL pool \(number) for \(location) lost its connections: \(reason)")
        }
    }

    /// Records that pool `number` handed out a connection.
    private func recordLease(from number: Int) {
        pool.update { current in
            if current.number == number { current.lastLeased = .now }
        }
    }

    /// Replaces pool `number` by a fresh one (unless another call already did, and that one has
    /// not failed since: a probe just got in) and returns the current pool. The old one is
    /// closed after ``retirement``: leases still queued on it time out and are tried again on
    /// the new pool; work running on it has until then to finish.
    private func replacePool(_ number: Int) -> Pool {
        var chosen: Pool?
        var retired: Task<Void, Never>?
        pool.update { current in
            if current.number == number || current.failed {
                retired = current.running
                let old = current.number
                current = Self.makePool(clientConfiguration, number: old + 1)
                Self.logger.debug("PostgreSQL pool \(old + 1) for \(location) replaces pool \(old)")
            }
            chosen = current
        }
        if let retired { PostgresTimer.schedule(after: Self.retirement) { retired.cancel() } }
        return chosen ?? pool.value
    }

    /// Connects once outside the pool, within `limit`, and closes the connection again. Throws
    /// what stopped it: refused, the server starting up, a wrong password, or ``LeaseTimeout``.
    /// Everything here runs on an event loop (the connection, its timeout, the result).
    private func probe(within limit: Duration) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let outcome = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: TimeAmount(limit)) { outcome.fail(LeaseTimeout()) }
        PostgresConnection.connect(on: loop, configuration: connectionConfiguration, id: 0, logger: Self.quiet).whenComplete { result in
            timer.cancel()
            switch result {
            case .success(let connection):
                // Completing a promise a second time (after the timeout) does nothing.
                outcome.succeed(())
                connection.close().whenComplete { _ in }
            case .failure(let error):
                outcome.fail(error)
            }
        }
        do {
            try await outcome.futureResult.get()
        } catch {
            Self.logger.debug("PostgreSQL probe of \(location) failed: \(Self.translate(error, location: location))")
            throw error
        }
    }

    /// One try: a connection leased within `leaseTimeout` (else ``LeaseTimeout``), then `work`
    /// on it for as long as it takes while the connection stays open (see ``whileOpen(_:_:)``).
    /// The lease runs in a task of its own, given up (cancelled) when late: the pool may not
    /// notice a cancelled lease at once, and no one waits for it.
    private static func attempt<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T,
                                             on client: PostgresClient, leaseTimeout: Duration,
                                             leased: @escaping @Sendable () -> Void) async throws -> T {
        try await PostgresRace.run(lost: LeaseTimeout(), { race in
            try await client.withConnection { connection in
                // Leased after the attempt was given up: leave the connection to the pool.
                guard race.finish(true) else { throw CancellationError() }
                leased()
                return try await whileOpen(connection) { try await work(connection) }
            }
        }, giveUp: { race in
            let timer = PostgresTimer.schedule(after: leaseTimeout) { _ = race.finish(false) }
            return { timer.cancel() }
        })
    }

    /// Runs `work` on `connection` until it ends, or until the connection is found closed (looked
    /// at every second; then ``ConnectionClosed``). postgres-nio can leave a query waiting forever
    /// when the server closes the connection just as the query is sent (seen with the server
    /// shutting down in the middle of a transaction); such work is given up (its task cancelled
    /// and left behind: one small task for each such query, on a connection that is gone) and the
    /// call tries again on a new connection.
    private static func whileOpen<T: Sendable>(_ connection: PostgresConnection,
                                               _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await PostgresRace.run(lost: ConnectionClosed(), { _ in try await work() }, giveUp: { race in
            let watch = MultiThreadedEventLoopGroup.singleton.any().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                if connection.isClosed { _ = race.finish(false) }
            }
            return { watch.cancel() }
        })
    }

    /// No connection from the pool, or none made by a probe, within ``leaseTimeout``.
    struct LeaseTimeout: Error {}

    /// The connection closed while work on it had not ended.
    struct ConnectionClosed: Error {}
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
