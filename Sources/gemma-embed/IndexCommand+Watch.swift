import Foundation
import GemmaSearch

extension IndexCommand {
    /// `index --watch`: keeps the index current with the paths in the foreground (a progress bar
    /// per update, one line per update that changed something) until SIGINT or SIGTERM.
    func watchPaths(_ index: SemanticIndex) throws {
        let bars = WatchBars()
        let verbose = verbose
        let watcher = IndexWatcher(index: index, roots: paths,
                                   configuration: .init(rescanInterval: .milliseconds(Int(rescanSeconds * 1000))),
                                   progress: { bars.update($0) },
                                   events: { event in
            bars.finish()
            switch event {
            case .updated(let summary):
                guard summary.filesAdded + summary.filesChanged + summary.filesRemoved > 0 || summary.interrupted || verbose else { return }
                Diagnostics.note("\(Self.timestamp()) \(summary.filesAdded) new, \(summary.filesChanged) changed, \(summary.filesRemoved) removed; "
                    + "\(summary.chunksEmbedded) chunks in \(summary.seconds.fixed(1)) s")
            case .failed(let error):
                Diagnostics.warn("update failed: \(error.cliError.description)")
            case .rootMissing(let path):
                Diagnostics.warn("\(path) is gone; watching the rest and looking for it again")
            case .rootReturned(let path):
                Diagnostics.note("\(path) is back")
            case .rescanning(let reason):
                Diagnostics.warn("file notifications unavailable (\(reason)); rescanning every \(rescanSeconds.fixed(1)) s")
            }
        })
        let flag = SignalFlag(message: "stopping after the batch in flight (finished files are kept)")
        Diagnostics.note("watching \(paths.joined(separator: ", ")) for changes into \(index.path); Ctrl-C stops")
        watcher.start()
        while !flag.isRaised { Thread.sleep(forTimeInterval: 0.1) }
        watcher.stop()
        bars.finish()
    }

    private static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }
}

/// One progress bar per update of a watched index (updates run one at a time on the watcher's thread).
private final class WatchBars: @unchecked Sendable {
    private let lock = NSLock()
    private var bar: ProgressBar?

    func update(_ progress: UpdateProgress) {
        lock.withLock {
            if bar == nil { bar = ProgressBar() }
            bar?.update(progress)
        }
    }

    func finish() {
        lock.withLock {
            bar?.finish()
            bar = nil
        }
    }
}
