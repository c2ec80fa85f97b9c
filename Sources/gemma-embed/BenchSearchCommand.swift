import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaSearch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gemma-embed bench-search`: search at scale on a synthetic index (built once through the real
/// storage code): warm latency, recall@10 against exact float32, bytes per chunk, memory.
struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-search",
        abstract: "Measure search on a synthetic index of N chunks: warm latency p50/p99, recall@10 against exact float32, bytes per chunk, memory.",
        discussion: """
        The index holds clustered random unit vectors (100 per cluster: many near-ties) and Zipf-distributed \
        pseudo-word text, written through the index's own storage; it is built when missing or with --build, \
        recorded as made with --model. Query embedding is timed apart (one short query through the model).
        """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "The synthetic index: a file, or a postgres:// URL.")
    var index: String

    @Option(name: .long, help: "Chunks in the synthetic index (when building).")
    var chunks = 100_000

    @Option(name: .long, help: "Words of text per chunk (when building).")
    var words = 60

    @Option(name: .long, help: "Width of the vectors (when building).")
    var dimensions = 768

    @Flag(name: .long, help: "Build the index again even if it exists.")
    var build = false

    @Option(name: .long, help: "Warm searches timed.")
    var queries = 200

    @Option(name: .customLong("recall-queries"), help: "Queries checked against the exact nearest neighbours.")
    var recallQueries = 50

    @Flag(name: .customLong("dense-only"), help: "Time searches without the full-text phrase lookup.")
    var denseOnly = false

    @Option(name: .long, parsing: .upToNextOption, help: "Also measure searches per second with this many clients at once (for example 1 32).")
    var clients: [Int] = []

    @Option(name: .customLong("client-seconds"), help: "How long each throughput run lasts.")
    var clientSeconds = 10.0

    func validate() throws {
        guard chunks >= 1, words >= 1, queries >= 1, recallQueries >= 1 else { throw ValidationError("counts must be at least 1") }
        guard clients.allSatisfy({ (1...256).contains($0) }), clientSeconds > 0 else { throw ValidationError("--clients takes 1 to 256 clients, --client-seconds a positive time") }
        do { _ = try EmbeddingModel.validate(dimensions: dimensions) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        do {
            let model = try modelOptions.load()
            let synthetic = SyntheticIndex(vectors: SyntheticVectors(count: chunks, dimensions: dimensions), wordsPerChunk: words)
            let exists = PostgresLocation.isDatabaseURL(index)
                ? ((try? SemanticIndex.statistics(ofIndexAt: index).chunks) ?? 0) > 0
                : FileManager.default.fileExists(atPath: index)
            if build || !exists {
                let bar = CountBar(total: chunks, unit: "chunks")
                let started = Date()
                _ = try synthetic.build(at: index, model: model) { bar.update($0) }
                bar.finish()
                Diagnostics.note("built \(chunks) synthetic chunks in \(Date().timeIntervalSince(started).fixed(1)) s")
            }
            let opened = try SemanticIndex.open(path: index, model: model)
            let result = try SearchBenchmark.run(index: opened, synthetic: synthetic, queries: queries, recallQueries: recallQueries, lexical: !denseOnly)
            var embedTimes: [Double] = []
            for n in 0..<30 {
                let request = try opened.queryRequest(synthetic.queryText(n) + " how to configure")
                let start = ContinuousClock.now
                _ = model.embed([request])
                embedTimes.append(start.duration(to: .now) / .milliseconds(1))
            }
            embedTimes.sort()
            print("chunks \(result.chunks), \((Double(result.bytesOnDisk) / Double(max(1, result.chunks))).fixed(0)) bytes per chunk on disk")
            print("first search (loads the first stage): \(result.firstSearch.fixed(1)) ms")
            print("warm search\(denseOnly ? " (dense only)" : ""): p50 \(result.p50.fixed(2)) ms, p99 \(result.p99.fixed(2)) ms, mean \(result.mean.fixed(2)) ms over \(result.queries)")
            print("query embedding (\(model.quantization.rawValue)): p50 \(embedTimes[embedTimes.count / 2].fixed(2)) ms")
            print("recall@10 against exact float32: \(result.recallAt10.fixed(4)) over \(result.recallQueries) queries")
            for count in clients {
                let rate = try SearchBenchmark.throughput(index: opened, synthetic: synthetic, clients: count, seconds: clientSeconds, lexical: !denseOnly)
                print("throughput with \(count) client\(count == 1 ? "" : "s"): \(rate.fixed(1)) searches/s")
            }
            print("resident memory: \((Double(result.residentBytes) / 1_048_576).fixed(1)) MiB")
        } catch let error as SearchError {
            throw error.cliError
        }
    }
}

/// A live count on standard error when it is a terminal.
final class CountBar {
    private let total: Int
    private let unit: String
    private let enabled = isatty(2) == 1

    init(total: Int, unit: String) {
        self.total = total
        self.unit = unit
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let percent = total > 0 ? 100 * done / total : 100
        OutputWriter.writeAll(Array("\r\u{1B}[2K\(done)/\(total) \(unit) (\(percent)%)".utf8), to: 2)
    }

    func finish() {
        if enabled { OutputWriter.writeAll(Array("\n".utf8), to: 2) }
    }
}
