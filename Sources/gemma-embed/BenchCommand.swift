import ArgumentParser
import EmbeddingGemma
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gemma-embed bench`: the project's workloads W1–W5, release build, real model.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency on the standard workloads (W1 documents, W2 query, W3 corpus, W4 cold start, W5 long)."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Comma-separated workloads to run: w1,w2,w3,w4,w5.")
    var workloads: String = "w1,w2,w3,w4,w5"

    @Option(name: .long, help: "JSON Lines file with a \"text\" per line for W3 (e.g. ../shared/golden/tokenizer_cases.jsonl).")
    var corpus: String?

    @Option(name: .long, help: "Calls measured for W2.")
    var queryCalls: Int = 50

    @Flag(name: .long, help: "Print machine-readable JSON instead of a table.")
    var json = false

    func run() throws {
        let selected = Set(workloads.lowercased().split(separator: ",").map(String.init))
        var model: EmbeddingModel?
        let loadSeconds = try Self.time { model = try modelOptions.load() }
        guard let model else { return }
        var results: [BenchResult] = []

        if selected.contains("w1") {
            let docs = Self.documents(model: model, count: 64, tokens: 256)
            let tokens = try docs.reduce(0) { $0 + (try model.tokenize($1, prompt: .named("document")).count) }
            _ = try model.encodeDocument(Array(docs.prefix(4)))
            // The machine's float32 ceiling, from a register-only multiply-add probe on every thread, before
            // and after the run: on a shared host a neighbour can halve one probe (both threads on one core).
            let peakBefore = ComputeEnvironment.measurePeakGFLOPS()
            let seconds = try Self.time { _ = try model.encodeDocument(docs) }
            let flops = Double(tokens) * Self.layerFlopsPerToken(model)
            var metrics = [("texts/s", 64 / seconds), ("tokens/s", Double(tokens) / seconds),
                           ("layer GFLOP/s", flops / seconds / 1e9), ("seconds", seconds)]
            if let peak = [peakBefore, ComputeEnvironment.measurePeakGFLOPS()].compactMap({ $0 }).max() {
                metrics += [("float32 probe peak GFLOP/s", peak), ("% of float32 peak", 100 * flops / seconds / 1e9 / peak)]
            }
            results.append(BenchResult(name: "W1 documents", detail: "64 × \(tokens / 64) tokens, document prompt, one batch",
                                       metrics: metrics))
        }
        if selected.contains("w2") {
            let query = "red planet facts"
            let tokens = try model.tokenize(query, prompt: .named("query")).count
            for _ in 0..<3 { _ = try model.encodeQuery(query) }
            var samples: [Double] = []
            for _ in 0..<max(queryCalls, 1) {
                samples.append(try Self.time { _ = try model.encodeQuery(query) })
            }
            samples.sort()
            func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count - 1) * p + 0.5))] }
            results.append(BenchResult(name: "W2 query latency", detail: "\(tokens) tokens with the query prompt, \(samples.count) calls",
                                       metrics: [("p50 ms", percentile(0.5) * 1000), ("p99 ms", percentile(0.99) * 1000)]))
        }
        if selected.contains("w3") {
            if let corpus {
                let texts = try Self.corpusTexts(corpus)
                let seconds = try Self.time { _ = try model.encode(texts) }
                results.append(BenchResult(name: "W3 mixed corpus", detail: "\(texts.count) texts from \(corpus.split(separator: "/").last.map(String.init) ?? corpus), tokenization included",
                                           metrics: [("texts/s", Double(texts.count) / seconds), ("seconds", seconds)]))
            } else if !json {
                print("W3 skipped: pass --corpus FILE (e.g. ../shared/golden/tokenizer_cases.jsonl)")
            }
        }
        if selected.contains("w4") {
            let seconds = try Self.coldStart(model: modelOptions.model)
            results.append(BenchResult(name: "W4 cold start", detail: "process start to first vector: gemma-embed embed \"hello\"",
                                       metrics: [("seconds", seconds)]))
        }
        if selected.contains("w5") {
            let docs = Self.documents(model: model, count: 8, tokens: model.maxSequenceLength)
            let tokens = try docs.reduce(0) { $0 + (try model.tokenize($1, prompt: .named("document")).count) }
            let seconds = try Self.time { _ = try model.encodeDocument(docs) }
            results.append(BenchResult(name: "W5 long", detail: "8 × \(tokens / 8) tokens",
                                       metrics: [("tokens/s", Double(tokens) / seconds), ("seconds", seconds)]))
        }

        let rss = Self.peakResidentMegabytes()
        let threads = "\(EmbeddingModel.threadCount)"
        if json {
            let report = BenchReport(
                machine: Self.machine(), cpu_features: ComputeEnvironment.cpuFeatures, blas_core: ComputeEnvironment.blasCore,
                kernels: ComputeEnvironment.kernels, threads: threads, precision: ComputeEnvironment.precision(for: model.quantization), weights: model.quantization.rawValue,
                weight_mb: Double(model.weightBytes) / 1e6, load_seconds: loadSeconds, peak_rss_mb: rss,
                workloads: results.map { r in
                    BenchReport.Workload(name: r.name, detail: r.detail,
                                         metrics: Dictionary(r.metrics.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first }))
                })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("CPU features: \(ComputeEnvironment.cpuFeatures.joined(separator: " ")); BLAS core: \(ComputeEnvironment.blasCore ?? "none")")
            print("kernels: \(ComputeEnvironment.kernels)")
            print("machine: \(Self.machine()); threads: \(threads); weights: \(model.quantization.rawValue) (\((Double(model.weightBytes) / 1e6).fixed(0)) MB), \(ComputeEnvironment.precision(for: model.quantization)); model load \(loadSeconds.fixed(2)) s")
            for r in results {
                let metrics = r.metrics.map { "\($0.0) \($0.1.fixed(2))" }.joined(separator: ", ")
                print("\(r.name.padded(to: 18)) \(metrics)   [\(r.detail)]")
            }
            print("peak RSS: \(rss.fixed(0)) MB")
        }
    }

    /// The `--json` output.
    struct BenchReport: Encodable {
        struct Workload: Encodable {
            var name: String
            var detail: String
            var metrics: [String: Double]
        }
        var machine: String
        var cpu_features: [String]
        var blas_core: String?
        var kernels: String
        var threads: String
        var precision: String
        var weights: String
        var weight_mb: Double
        var load_seconds: Double
        var peak_rss_mb: Double
        var workloads: [Workload]
    }

    struct BenchResult {
        var name: String
        var detail: String
        var metrics: [(String, Double)]
    }

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let elapsed = (clock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    /// FLOPs of the layer matrix products per token (projections and MLP, attention excluded).
    static func layerFlopsPerToken(_ model: EmbeddingModel) -> Double {
        let c = model.folder.config
        let q = c.numAttentionHeads * c.headDim
        let kv = c.numKeyValueHeads * c.headDim
        let perLayer = c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize
        return 2 * Double(perLayer) * Double(c.numHiddenLayers)
    }

    /// `count` deterministic English-like documents of about `tokens` tokens each (document prompt included).
    static func documents(model: EmbeddingModel, count: Int, tokens: Int) -> [String] {
        let words = ["system", "file", "network", "memory", "the", "of", "copy", "directory", "server", "cannot",
                     "option", "invalid", "stream", "output", "read", "write", "error", "user", "time", "value",
                     "search", "planet", "model", "vector", "query", "document", "red", "local", "private", "fast"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        return (0..<count).map { _ in
            let pool = (0..<(tokens * 2)).map { _ in words[next() % words.count] }
            func length(_ n: Int) -> Int {
                (try? model.tokenize(pool.prefix(n).joined(separator: " "), prompt: .named("document")).count) ?? Int.max
            }
            // Largest word count whose tokenized length (prompt included) is at most `tokens`.
            var low = 0, high = pool.count
            while low < high {
                let mid = (low + high + 1) / 2
                if length(mid) <= tokens { low = mid } else { high = mid - 1 }
            }
            return pool.prefix(low).joined(separator: " ")
        }
    }

    static func corpusTexts(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { index, line in
            struct Line: Decodable { var text: String }
            guard let text = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)).text else {
                throw CLIError("\(path) line \(index + 1): no \"text\"")
            }
            return text
        }
    }

    /// Runs this executable as `embed hello` (output discarded) and times it to exit.
    static func coldStart(model: String?) throws -> Double {
        let executable = executablePath()
        let arguments = [executable, "embed", "hello"] + (model.map { ["--model", $0] } ?? [])
        var status: Int32 = 0
        let seconds = try time {
            status = try ChildProcess.run(executable, arguments: arguments, discardingOutput: true)
        }
        guard status == 0 else { throw CLIError("cold-start run failed with status \(status)") }
        return seconds
    }

    /// Path of the running executable.
    static func executablePath() -> String {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 { return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        return CommandLine.arguments[0]
    }

    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #endif
        #if canImport(Darwin)
        return Double(usage.ru_maxrss) / 1_048_576
        #else
        return Double(usage.ru_maxrss) / 1024
        #endif
    }

    static func machine() -> String {
        "\(ComputeEnvironment.cpuModel), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
    }
}
