import NIOCore
import NIOPosix
import PostgresNIO

extension PostgresConnector {
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
        if error is ConnectionClosed {
            return .storeUnavailable(location: place, reason: "the connection to \(location.endpoint) was closed")
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

    /// Whether `error` is a transaction that lost to another on a working connection (a
    /// serialization failure or deadlock): tried again on the same pool, which is not suspect.
    static func isTransactionConflict(_ error: any Error) -> Bool {
        if let wrapped = error as? PostgresTransactionError,
           let cause = wrapped.beginError ?? wrapped.closureError ?? wrapped.commitError {
            return isTransactionConflict(cause)
        }
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return ["40001", "40P01"].contains(error.serverInfo?[.sqlState] ?? "")
    }
}
