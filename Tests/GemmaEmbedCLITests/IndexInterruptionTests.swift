import EmbeddingGemma
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `gemma-embed index` stopped by SIGKILL and by Ctrl-C on the real model: nothing finished
/// is lost, nothing is written twice, and the next run continues where it stopped.
@Suite("index survives kill -9 and Ctrl-C", .serialized, .enabled(if: RealModel.available, "model missing"))
struct IndexInterruptionTests {
    static let evalDocs = URL(fileURLWithPath: RealModel.golden).deletingLastPathComponent().appendingPathComponent("search-eval/docs").path

    /// Starts `gemma-embed` with `arguments` without waiting for it.
    static func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    /// Files the index holds, as `index --stats` reports them (0 before the first write).
    static func indexedFiles(_ index: String) throws -> Int {
        let stats = try CLI.run(["index", "--index", index, "--stats"])
        guard stats.status == 0, let line = stats.stdout.split(separator: "\n").first(where: { $0.hasPrefix("files: ") }) else { return 0 }
        return Int(line.dropFirst("files: ".count).prefix { $0.isNumber }) ?? 0
    }

    /// Waits until the index holds at least `count` files (at most `seconds`).
    static func waitForFiles(_ index: String, atLeast count: Int, seconds: Double) throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var files = 0
        while Date() < deadline {
            files = try indexedFiles(index)
            if files >= count { break }
            usleep(300_000)
        }
        return files
    }

    @Test("kill -9 mid-run, then Ctrl-C mid-run, then a full run: every file once, searches work meanwhile")
    func interruptions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("interrupt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let docs = folder + "/docs"
        try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.evalDocs).sorted().prefix(240)
        for name in names { try FileManager.default.copyItem(atPath: Self.evalDocs + "/" + name, toPath: docs + "/" + name) }
        let index = folder + "/index.sqlite"

        // 1. kill -9 once some batches are written.
        let (first, _) = try Self.start(["index", "--index", index, docs])
        let before = try Self.waitForFiles(index, atLeast: 30, seconds: 120)
        // A search while the indexer writes (WAL: readers do not wait for the writer).
        let concurrent = try CLI.run(["search", "--index", index, "--json", "-k", "3", "webcam library"])
        #expect(concurrent.status == 0, "\(concurrent.stderr)")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)
        let afterKill = try Self.indexedFiles(index)
        #expect(afterKill >= before && afterKill < names.count, "killed mid-run: \(afterKill) of \(names.count)")

        // 2. Ctrl-C: stops after the batch in flight, exit status 130, says how to continue.
        let (second, errors) = try Self.start(["index", "--index", index, docs])
        _ = try Self.waitForFiles(index, atLeast: afterKill + 20, seconds: 120)
        second.interrupt()
        second.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 130, "\(message)")
        #expect(message.contains("interrupted:"), "\(message)")
        #expect(message.contains("run the same command again to continue"))
        let afterInterrupt = try Self.indexedFiles(index)
        #expect(afterInterrupt > afterKill)

        // 3. The rest: only the files not yet written are embedded; each file has exactly one chunk.
        let last = try CLI.run(["index", "--index", index, docs])
        #expect(last.status == 0, "\(last.stderr)")
        #expect(last.stderr.contains("\(names.count - afterInterrupt) new, 0 changed, \(afterInterrupt) unchanged"), "\(last.stderr)")
        let stats = try CLI.run(["index", "--index", index, "--stats"])
        #expect(stats.stdout.contains("files: \(names.count) (0 more left out), chunks: \(names.count),"), "\(stats.stdout)")
    }

    @Test("index --watch: kill -9 during the watched update loses nothing; the next start catches up, then follows a new file")
    func watchSurvivesKill() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("watch-kill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let docs = folder + "/docs"
        try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.evalDocs).sorted().prefix(120)
        for name in names { try FileManager.default.copyItem(atPath: Self.evalDocs + "/" + name, toPath: docs + "/" + name) }
        let index = folder + "/index.sqlite"

        let (first, _) = try Self.start(["index", "--index", index, "--watch", docs])
        let before = try Self.waitForFiles(index, atLeast: 20, seconds: 120)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let afterKill = try Self.indexedFiles(index)
        #expect(afterKill >= before && afterKill < names.count, "killed mid-update: \(afterKill) of \(names.count)")

        let (second, errors) = try Self.start(["index", "--index", index, "--watch", docs])
        #expect(try Self.waitForFiles(index, atLeast: names.count, seconds: 300) == names.count, "the next start catches up")
        try "The zebrafish aquarium heater manual.\n".write(toFile: docs + "/zz-new.txt", atomically: true, encoding: .utf8)
        #expect(try Self.waitForFiles(index, atLeast: names.count + 1, seconds: 30) == names.count + 1, "a new file is picked up")
        let found = try CLI.run(["search", "--index", index, "--json", "-k", "1", "zebrafish aquarium heater"])
        #expect(found.stdout.contains("zz-new.txt"), "\(found.stdout)")
        second.terminate()
        second.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 0, "\(message)")
        let stats = try CLI.run(["index", "--index", index, "--stats"])
        #expect(stats.stdout.contains("files: \(names.count + 1) (0 more left out), chunks: \(names.count + 1),"), "\(stats.stdout)")
    }
}
