import Foundation

/// Pieces of streamed text, collected across a generator's callbacks (which may run on any thread).
public final class PieceCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var pieces: [String] = []

    public init() {}

    /// Appends one piece.
    public func add(_ piece: String) { lock.withLock { pieces.append(piece) } }
    /// The pieces so far, in order.
    public var all: [String] { lock.withLock { pieces } }
}
