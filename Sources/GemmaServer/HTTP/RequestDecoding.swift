import Foundation
import Hummingbird

/// Reading JSON bodies with limits and messages a client can act on.
enum RequestDecoding {
    /// The body of `request` decoded as `T`.
    /// - Throws: ``APIError`` 413 over `maxBytes`, 400 for invalid JSON or wrong field types (naming the field).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, maxBytes: Int) async throws(APIError) -> T {
        let buffer = try await body(of: request, maxBytes: maxBytes)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, "invalid value for '\(field)': \(context.debugDescription)", param: field)
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "missing field '\(key.stringValue)'", param: key.stringValue)
        } catch {
            throw APIError(.badRequest, "the request body is not valid JSON")
        }
    }

    /// The body of `request` as a JSON object (for routes that check each field themselves).
    /// - Throws: ``APIError`` 413 over `maxBytes`, 400 for an empty body or one that is not a JSON object.
    static func object(from request: Request, maxBytes: Int) async throws(APIError) -> [String: Any] {
        let buffer = try await body(of: request, maxBytes: maxBytes)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] else {
            throw APIError(.badRequest, "the request body is not a JSON object")
        }
        return object
    }

    /// The whole body, refused when over `maxBytes` (413) or empty (400).
    private static func body(of request: Request, maxBytes: Int) async throws(APIError) -> ByteBuffer {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw APIError(.contentTooLarge, "request body over the limit of \(maxBytes) bytes", code: "body_too_large")
        }
        guard buffer.readableBytes > 0 else { throw APIError(.badRequest, "the request body is empty: send a JSON object") }
        return buffer
    }
}
