import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaSearch
import Testing

/// The watcher on real folders and a real index of the tiny model: changes become searchable,
/// removals disappear, a folder that goes away is reported and watched again when it is back.
@Suite("Index watcher on a tiny model", .serialized)
struct IndexWatcherTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write())
    }()

    /// Events, collected from the watcher's thread.
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [IndexWatcher.Event] = []
        func add(_ event: IndexWatcher.Event) { lock.withLock { events.append(event) } }
        var all: [IndexWatcher.Event] { lock.withLock { events } }
    }

    static func setUp(notifications: Bool = true) throws -> (watcher: IndexWatcher, index: SemanticIndex, docs: String, events: Events) {
        let root = ScratchDirectory("watch").path
        let docs = root + "/docs"
        try FileManager.default.createDirectory(atPath: docs + "/sub", withIntermediateDirectories: true)
        try "first file abc\n".write(toFile: docs + "/one.txt", atomically: true, encoding: .utf8)
        let index = try SemanticIndex(path: root + "/index.sqlite", model: model, options: IndexOptions(chunkTokens: 24, overlapTokens: 4))
        let events = Events()
        let watcher = IndexWatcher(index: index, roots: [docs],
                                   configuration: .init(quietPeriod: .milliseconds(100), rescanInterval: .milliseconds(300), notifications: notifications),
                                   events: { events.add($0) })
        return (watcher, index, docs, events)
    }

    /// Polls `condition` every 50 ms for up to `seconds`; returns how long it took, or nil.
    static func within(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if try condition() { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    static func paths(_ index: SemanticIndex, _ query: String) throws -> [String] {
        try index.search(query, limit: 20, lexicalWeight: 5).map(\.path)
    }

    @Test("notifications: the first update catches up, saved files are searchable within seconds, removed ones go", arguments: [true, false])
    func changesBecomeSearchable(notifications: Bool) throws {
        let (watcher, index, docs, _) = try Self.setUp(notifications: notifications)
        watcher.start()
        defer { watcher.stop() }
        #expect(Self.within(10) { watcher.status.lastUpdateEnded != nil } != nil)
        #expect(try index.statistics().files == 1)
        #expect(watcher.status.notifications == notifications)

        let added = docs + "/sub/two.txt"
        try "zebrafish marker\n".write(toFile: added, atomically: true, encoding: .utf8)
        let seen = try Self.within(5) { try Self.paths(index, "zebrafish marker").contains(added) }
        #expect(seen != nil, "a saved file became searchable within 5 s")

        // A folder made after the start is watched too.
        try FileManager.default.createDirectory(atPath: docs + "/later/deeper", withIntermediateDirectories: true)
        Thread.sleep(forTimeInterval: 0.3)
        let deep = docs + "/later/deeper/three.txt"
        try "okapi sighting\n".write(toFile: deep, atomically: true, encoding: .utf8)
        #expect(try Self.within(5) { try Self.paths(index, "okapi sighting").contains(deep) } != nil)

        try FileManager.default.removeItem(atPath: added)
        #expect(try Self.within(5) { try !index.holdsFiles(under: added) } != nil, "a removed file leaves the index")
        #expect(try index.statistics().files == 2)
    }

    @Test("a watched folder that disappears is reported; the watcher keeps running and picks it up again")
    func folderGoesAndComes() throws {
        let (watcher, index, docs, events) = try Self.setUp()
        watcher.start()
        defer { watcher.stop() }
        #expect(Self.within(10) { watcher.status.lastUpdateEnded != nil } != nil)
        let away = docs + "-away"
        try FileManager.default.moveItem(atPath: docs, toPath: away)
        #expect(Self.within(5) { watcher.status.roots.first?.exists == false } != nil)
        #expect(events.all.contains { if case .rootMissing(let path) = $0 { path == docs } else { false } })
        #expect(try index.statistics().files == 1, "files of a vanished folder are kept (an unmounted disk is not a deletion)")

        try FileManager.default.moveItem(atPath: away, toPath: docs)
        #expect(Self.within(5) { watcher.status.roots.first?.exists == true } != nil)
        let added = docs + "/back.txt"
        try "narwhal return\n".write(toFile: added, atomically: true, encoding: .utf8)
        #expect(try Self.within(5) { try Self.paths(index, "narwhal return").contains(added) } != nil)
    }
}
