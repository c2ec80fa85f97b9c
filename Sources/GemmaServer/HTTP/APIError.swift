import Foundation
import Hummingbird

/// An error answered in the shape of the API that was called: Ollama's `{"error": "..."}` or
/// OpenAI's `{"error": {"message", "type", "param", "code"}}`.
public struct APIError: Error, Sendable {
    /// Which API's error shape to use.
    public enum Flavor: Sendable {
        case ollama
        case openAI
        /// This server's own routes (search, ask, index, file): `{"error": "...", "param": "field"}`.
        case gemma
    }

    public var status: HTTPResponse.Status
    public var message: String
    /// The request field at fault (OpenAI's `param`).
    public var param: String?
    /// OpenAI's `code`.
    public var code: String?
    /// Seconds after which to retry (a full queue).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    /// The response for `flavor`.
    func response(_ flavor: Flavor) -> Response {
        let object: [String: Any]
        switch flavor {
        case .ollama:
            object = ["error": message]
        case .gemma:
            object = param.map { ["error": message, "param": $0] } ?? ["error": message]
        case .openAI:
            let type = status == .unauthorized ? "authentication_error"
                : status.code >= 500 ? (status == .serviceUnavailable ? "server_overloaded" : "server_error") : "invalid_request_error"
            object = ["error": ["message": message, "type": type, "param": param as Any? ?? NSNull(), "code": code as Any? ?? NSNull()]]
        }
        let data = jsonData(object)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The response of `body`, or of the error it throws, in `flavor`'s shape.
    static func answer(_ flavor: Flavor, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return error.response(flavor)
        } catch {
            return APIError(.internalServerError, "internal error: \(error)").response(flavor)
        }
    }
}
