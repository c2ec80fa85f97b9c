import Foundation
import Hummingbird
import Logging

/// Logs one structured line per request (method, path, route, status, duration, inputs and
/// tokens embedded) and records it in ``ServerMetrics``.
///
/// Successful requests log at `info`, client errors at `notice`, a full queue's 503 at `warning`,
/// other server errors at `error`.
struct RequestObservation: RouterMiddleware {
    typealias Context = ServerRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            observe(request, context: context, status: status, start: start)
            return response
        } catch {
            status = (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
            observe(request, context: context, status: status, start: start)
            throw error
        }
    }

    private func observe(_ request: Request, context: Context, status: Int, start: ContinuousClock.Instant) {
        let duration = start.duration(to: .now)
        // Unmatched paths (Hummingbird names them "NotFound") share one label, so that scanners
        // cannot grow the metric without bound.
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: status, duration: duration)
        if route == "/metrics" || (route == "/" && status == 200) { return }
        let milliseconds = duration / .milliseconds(1)
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.1f", milliseconds)),
        ]
        if context.usage.inputs > 0 {
            metadata["inputs"] = .stringConvertible(context.usage.inputs)
            metadata["tokens"] = .stringConvertible(context.usage.tokens)
        }
        // A 503 is the queue's intended back-pressure, not a fault.
        let level: Logger.Level = status == 503 ? .warning : status >= 500 ? .error : status >= 400 ? .notice : .info
        context.logger.log(level: level, "request", metadata: metadata)
    }
}
