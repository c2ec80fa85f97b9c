import Foundation

/// Keeps an index current with folders: brings it up to date when started (catching up with
/// whatever changed while nothing watched, or after an interrupted update), then applies
/// changes as they happen — noticed through the kernel's file notifications (inotify on Linux),
/// or by rescanning every ``Configuration/rescanInterval`` where those are not available —
/// after a short quiet period, with the same incremental update as ``SemanticIndex/update(_:options:progress:shouldStop:embedder:)``
/// (whole files per transaction: stopping or killing the process at any moment loses nothing).
///
/// ```swift
/// let watcher = IndexWatcher(index: index, roots: ["~/notes"]) { event in print(event) }
/// watcher.start()
/// // ... searches meanwhile see each batch as it is written
/// watcher.stop()
/// ```
public final class IndexWatcher: @unchecked Sendable {
    /// Timing of the watcher.
    public struct Configuration: Sendable {
        /// How long changes must pause before an update starts (a burst of saves becomes one update).
        public var quietPeriod: Duration
        /// Longest wait after a first change even while changes keep coming.
        public var maxDelay: Duration
        /// How often folders are scanned again when file notifications are not available, and how
        /// often a missing folder is looked for.
        public var rescanInterval: Duration
        /// Whether to use file notifications where the system has them; false rescans only
        /// (for network file systems, whose changes made on other machines notify nothing).
        public var notifications: Bool

        public init(quietPeriod: Duration = .milliseconds(300), maxDelay: Duration = .seconds(2), rescanInterval: Duration = .seconds(30),
                    notifications: Bool = true) {
            self.quietPeriod = quietPeriod
            self.maxDelay = maxDelay
            self.rescanInterval = rescanInterval
            self.notifications = notifications
        }
    }

    /// What the watcher has done, for logs.
    public enum Event: Sendable {
        /// An update finished (or stopped early when the watcher stopped).
        case updated(UpdateSummary)
        /// An update failed; the next change (or rescan) tries again.
        case failed(SearchError)
        /// A watched folder is gone; the others are still watched and it is looked for again.
        case rootMissing(String)
        /// A watched folder that was gone is back.
        case rootReturned(String)
        /// File notifications are not available: folders are rescanned on a timer instead.
        case rescanning(reason: String)
    }

    /// A watched folder and whether it is there.
    public struct Root: Sendable, Hashable {
        public var path: String
        public var exists: Bool
    }

    /// What the watcher is doing.
    public struct Status: Sendable {
        /// The folders watched.
        public var roots: [Root]
        /// The update in flight, if any, and when it started.
        public var update: UpdateProgress?
        public var updateStarted: Date?
        /// When the last update ended, and what it did.
        public var lastUpdateEnded: Date?
        public var lastSummary: UpdateSummary?
        /// The last failure, until an update succeeds.
        public var lastError: String?
        /// Whether changes are noticed by notification (else by rescanning).
        public var notifications: Bool
    }

    public let index: SemanticIndex
    public let configuration: Configuration
    private let roots: [String]
    private let embedder: DocumentEmbedder?
    private let events: @Sendable (Event) -> Void
    private let progress: (@Sendable (UpdateProgress) -> Void)?
    private let lock = NSLock()
    private var state: Status
    private var stopping = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - roots: folders (or files) to keep indexed.
    ///   - embedder: embeds the updates' batches (nil: the index's model on the watcher's thread).
    ///   - progress: called after every batch of an update (on the watcher's thread).
    ///   - events: called when an update ends, fails, or a folder goes or comes back.
    public init(index: SemanticIndex, roots: [String], configuration: Configuration = Configuration(), embedder: DocumentEmbedder? = nil,
                progress: (@Sendable (UpdateProgress) -> Void)? = nil, events: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.index = index
        self.roots = roots.map(FileWalker.absolute)
        self.configuration = configuration
        self.embedder = embedder
        self.progress = progress
        self.events = events
        state = Status(roots: self.roots.map { Root(path: $0, exists: FileManager.default.fileExists(atPath: $0)) }, notifications: false)
    }

    /// What the watcher is doing now.
    public var status: Status {
        lock.withLock { state }
    }

    /// Starts watching on a thread of its own: first an update of every root, then one after each burst of changes.
    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "index-watcher"
        thread.stackSize = 8 << 20
        lock.withLock { self.thread = thread }
        thread.start()
    }

    /// Stops watching: an update in flight ends after its current batch (what is written stays);
    /// returns when the watcher's thread has ended.
    public func stop() {
        let started = lock.withLock {
            stopping = true
            return thread != nil
        }
        if started { finished.wait() }
    }

    private var isStopping: Bool {
        lock.withLock { stopping }
    }

    private func run() {
        var notifications: FileNotifications?
        if configuration.notifications {
            do {
                notifications = try FileNotifications()
            } catch {
                events(.rescanning(reason: error.description))
            }
        }
        watch(&notifications)
        update()
        let clock = ContinuousClock()
        var lastScan = clock.now
        while !isStopping {
            if let active = notifications {
                guard active.wait(timeout: .milliseconds(250)) else {
                    if lastScan.duration(to: clock.now) >= configuration.rescanInterval, state.roots.contains(where: { !$0.exists }) {
                        lastScan = clock.now
                        if checkRoots() { watch(&notifications); update() }
                    }
                    continue
                }
                // A change: wait for a quiet moment (or the longest delay), then update.
                let first = clock.now
                var last = first
                while !isStopping, last.duration(to: clock.now) < configuration.quietPeriod, first.duration(to: clock.now) < configuration.maxDelay {
                    if active.wait(timeout: .milliseconds(50)) { last = clock.now }
                }
                guard !isStopping else { break }
                watch(&notifications)  // folders made meanwhile
                update()
            } else {
                let deadline = clock.now + configuration.rescanInterval
                while !isStopping, clock.now < deadline { Thread.sleep(forTimeInterval: 0.1) }
                guard !isStopping else { break }
                update()
            }
        }
    }

    /// Adds watches for every folder under the roots (falling back to rescans when that fails).
    private func watch(_ notifications: inout FileNotifications?) {
        guard let active = notifications else { return }
        do {
            for root in roots where FileManager.default.fileExists(atPath: root) { try active.watchTree(root) }
            lock.withLock { state.notifications = true }
        } catch {
            notifications = nil
            lock.withLock { state.notifications = false }
            events(.rescanning(reason: error.description))
        }
    }

    /// Records which roots exist, reporting changes; true when one came back.
    @discardableResult
    private func checkRoots() -> Bool {
        var returned = false
        for (position, root) in roots.enumerated() {
            let exists = FileManager.default.fileExists(atPath: root)
            let was = lock.withLock { state.roots[position].exists }
            guard exists != was else { continue }
            lock.withLock { state.roots[position].exists = exists }
            events(exists ? .rootReturned(root) : .rootMissing(root))
            returned = returned || exists
        }
        return returned
    }

    /// One incremental update of the roots that exist.
    private func update() {
        checkRoots()
        let present = lock.withLock { state.roots.filter(\.exists).map(\.path) }
        guard !present.isEmpty else { return }
        lock.withLock {
            state.updateStarted = Date()
            state.update = UpdateProgress(filesFound: 0, filesToProcess: 0, filesProcessed: 0, chunksEmbedded: 0, tokensEmbedded: 0,
                                          bytesToProcess: 0, bytesProcessed: 0, elapsed: 0)
        }
        do {
            let summary = try index.update(present, progress: { [self] step in
                lock.withLock { state.update = step }
                progress?(step)
            }, shouldStop: { [self] in isStopping }, embedder: embedder)
            lock.withLock {
                state.lastSummary = summary
                state.lastError = nil
            }
            events(.updated(summary))
        } catch {
            lock.withLock { state.lastError = error.description }
            events(.failed(error))
        }
        lock.withLock {
            state.update = nil
            state.updateStarted = nil
            state.lastUpdateEnded = Date()
        }
    }
}
