import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns SIGINT and SIGTERM into a flag that long work checks between steps: the first signal
/// asks it to stop after the step in flight (finished work is kept); a second one exits at once.
final class SignalFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    private var sources: [DispatchSourceSignal] = []

    /// Installs the handlers; `message` is printed on standard error at the first signal.
    init(message: String) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                let again = self.raised
                self.raised = true
                self.lock.unlock()
                if again { exit(130) }
                OutputWriter.writeAll(Array("\n\(message)\n".utf8), to: 2)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether a signal has come.
    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
