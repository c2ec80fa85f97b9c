import Foundation
import Prometheus

/// The server's counters, gauges and histograms, exposed at `GET /metrics` in Prometheus's text
/// format.
///
/// Each server owns its registry (no global metrics system), so that several servers in one
/// process, as in tests, keep separate numbers.
///
/// | Metric | Kind | Labels |
/// |---|---|---|
/// | `gemma_http_requests_total` | counter | `route`, `method`, `status` |
/// | `gemma_http_request_duration_seconds` | histogram | `route` |
/// | `gemma_embed_inputs_total`, `gemma_embed_tokens_total` | counter | |
/// | `gemma_embed_passes_total` | counter | |
/// | `gemma_embed_pass_inputs`, `gemma_embed_pass_tokens` | histogram | |
/// | `gemma_embed_pass_duration_seconds`, `gemma_embed_queue_wait_seconds` | histogram | |
/// | `gemma_embed_queue_inputs` | gauge | |
/// | `gemma_embed_rejected_total`, `gemma_embed_cancelled_total` | counter | |
public final class ServerMetrics: Sendable {
    /// The registry every metric lives in.
    public let registry: PrometheusCollectorRegistry

    let inputs: Counter
    let tokens: Counter
    let passes: Counter
    let passInputs: ValueHistogram
    let passTokens: ValueHistogram
    let passDuration: DurationHistogram
    let queueWait: DurationHistogram
    let queueInputs: Gauge
    let rejected: Counter
    let cancelled: Counter
    let generations: Counter
    let generationPromptTokens: Counter
    let generatedTokens: Counter
    let generationDuration: DurationHistogram
    let generationQueue: Gauge

    static let latencyBuckets: [Duration] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].map { .milliseconds($0) }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        inputs = registry.makeCounter(descriptor: Self.name("embed", "inputs", "total", "Texts embedded."))
        tokens = registry.makeCounter(descriptor: Self.name("embed", "tokens", "total", "Tokens embedded, prompts included."))
        passes = registry.makeCounter(descriptor: Self.name("embed", "passes", "total", "Encoder passes run."))
        passInputs = registry.makeValueHistogram(descriptor: Self.name("embed", "pass_inputs", "", "Texts per encoder pass."),
                                                 buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        passTokens = registry.makeValueHistogram(descriptor: Self.name("embed", "pass_tokens", "", "Tokens per encoder pass."),
                                                 buckets: [16, 64, 256, 512, 1024, 2048, 4096, 8192])
        passDuration = registry.makeDurationHistogram(descriptor: Self.name("embed", "pass_duration", "seconds", "Time of one encoder pass."),
                                                      buckets: Self.latencyBuckets)
        queueWait = registry.makeDurationHistogram(descriptor: Self.name("embed", "queue_wait", "seconds", "Time a request waited before its pass."),
                                                   buckets: Self.latencyBuckets)
        queueInputs = registry.makeGauge(descriptor: Self.name("embed", "queue_inputs", "", "Texts waiting for a pass now."))
        rejected = registry.makeCounter(descriptor: Self.name("embed", "rejected", "total", "Requests refused with 503 because the queue was full."))
        cancelled = registry.makeCounter(descriptor: Self.name("embed", "cancelled", "total", "Requests dropped because their client went away."))
        generations = registry.makeCounter(descriptor: Self.name("generate", "requests", "total", "Generations run (completions and chats)."))
        generationPromptTokens = registry.makeCounter(descriptor: Self.name("generate", "prompt_tokens", "total", "Prompt tokens read by the generator."))
        generatedTokens = registry.makeCounter(descriptor: Self.name("generate", "tokens", "total", "Tokens generated."))
        generationDuration = registry.makeDurationHistogram(descriptor: Self.name("generate", "duration", "seconds", "Time of one generation, prompt included."),
                                                            buckets: Self.latencyBuckets + [.seconds(30), .seconds(60), .seconds(120)])
        generationQueue = registry.makeGauge(descriptor: Self.name("generate", "queue", "", "Generations running or waiting now."))
    }

    /// Counts one answered HTTP request and its latency.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.name("http", "requests", "total", "HTTP requests answered."),
                             labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.name("http", "request_duration", "seconds", "Time to answer an HTTP request."),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// Records one encoder pass.
    func recordPass(inputs count: Int, tokens tokenCount: Int, duration: Duration) {
        passes.increment()
        inputs.increment(by: Int64(count))
        tokens.increment(by: Int64(tokenCount))
        passInputs.record(Double(count))
        passTokens.record(Double(tokenCount))
        passDuration.record(duration)
    }

    /// The exposition text (`text/plain; version=0.0.4`).
    public func exposition() -> String {
        registry.emitToString()
    }

    private static func name(_ subsystem: String, _ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gemma", subsystem: subsystem, metricName: metric, unitName: unit, helpText: help)
    }
}
