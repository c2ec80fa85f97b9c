import Foundation
import Hummingbird

/// The request context of the server's routes: Hummingbird's core context plus what the
/// embedding routes report back to the request log (inputs and tokens embedded).
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Filled in by the embedding routes, read by ``RequestObservation`` when the answer is sent.
    public let usage = RequestUsage()

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Inputs and tokens one request embedded (shared by reference between a route and the
/// middleware that logs it).
public final class RequestUsage: @unchecked Sendable {
    private let lock = NSLock()
    private var storedInputs = 0
    private var storedTokens = 0

    /// Adds one request's figures.
    func add(inputs: Int, tokens: Int) {
        lock.lock()
        storedInputs += inputs
        storedTokens += tokens
        lock.unlock()
    }

    /// Texts embedded for the request.
    public var inputs: Int { lock.withLock { storedInputs } }
    /// Tokens embedded for the request.
    public var tokens: Int { lock.withLock { storedTokens } }
}
