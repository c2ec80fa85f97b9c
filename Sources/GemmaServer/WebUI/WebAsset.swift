import Foundation
import Hummingbird

/// One file of the web page, held in the binary: its path, content type, bytes and entity tag.
struct WebAsset: Sendable {
    /// The route it is served at.
    let path: String
    /// Its `Content-Type`.
    let contentType: String
    /// Its bytes.
    let body: ByteBuffer
    /// A strong entity tag of its bytes (FNV-1a, 64 bits), for `If-None-Match`.
    let etag: String

    init(path: String, contentType: String, text: String) {
        self.path = path
        self.contentType = contentType
        body = ByteBuffer(string: text)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        etag = "\"" + String(hash, radix: 16) + "\""
    }

    /// The page, its script and its style sheet.
    static let all = [
        WebAsset(path: WebUI.root, contentType: "text/html; charset=utf-8", text: WebAssets.html),
        WebAsset(path: WebUI.root + "app.js", contentType: "text/javascript; charset=utf-8", text: WebAssets.javaScript),
        WebAsset(path: WebUI.root + "app.css", contentType: "text/css; charset=utf-8", text: WebAssets.styleSheet),
    ]

    /// The asset, or `304 Not Modified` when the browser already holds this version. Browsers
    /// revalidate on every load (`no-cache`), so a new binary's page is used at once.
    func response(to request: Request, withBody: Bool = true) -> Response {
        var headers: HTTPFields = [.contentType: contentType, .cacheControl: "no-cache", .eTag: etag,
                                   .xContentTypeOptions: "nosniff"]
        if path == WebUI.root {
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"
        }
        if let tags = request.headers[.ifNoneMatch], tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: .ok, headers: headers, body: withBody ? ResponseBody(byteBuffer: body) : ResponseBody())
    }
}
