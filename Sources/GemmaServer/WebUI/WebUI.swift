import Foundation
import Hummingbird

/// The web page: search, ask and the index's status in a browser, at `/ui/`.
///
/// Every asset is served by the binary itself (no CDN, no network): the page (`GET /ui/`), its
/// script (`GET /ui/app.js`) and its style sheet (`GET /ui/app.css`); `GET /ui` redirects to
/// `/ui/`. The page talks to the search routes (`/api/search`, `/api/ask`, `/api/index`,
/// `/api/file`) and, when the server has an API key, asks for it once and sends it as a bearer
/// token; the page itself is served without a key.
///
/// ```swift
/// WebUI().register(on: router)
/// ```
public struct WebUI: Sendable {
    /// Where the page lives.
    public static let root = "/ui/"

    public init() {}

    /// Adds the page's routes to `router`.
    public func register(on router: Router<ServerRequestContext>) {
        // The router matches `/ui` and `/ui/` alike: the handler tells them apart.
        for asset in WebAsset.all {
            let redirects = asset.path == Self.root
            router.get(RouterPath(stringLiteral: asset.path)) { request, _ in
                redirects && request.uri.path == "/ui" ? Self.redirectToPage() : asset.response(to: request)
            }
            router.head(RouterPath(stringLiteral: asset.path)) { request, _ in
                redirects && request.uri.path == "/ui" ? Self.redirectToPage() : asset.response(to: request, withBody: false)
            }
        }
    }

    /// Whether a request for `GET /` comes from a browser that wants a page (its `Accept` header
    /// names `text/html`) rather than from a client checking that the server runs, which keeps
    /// getting Ollama's plain-text answer.
    public static func wantsPage(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept] else { return false }
        return accept.lowercased().contains("text/html")
    }

    /// `302 Found` to the page.
    public static func redirectToPage() -> Response {
        Response(status: .found, headers: [.location: root, .cacheControl: "no-store"])
    }

    /// Whether `path` is one of the page's own (served without an API key).
    public static func isPagePath(_ path: String) -> Bool {
        path == "/ui" || path.hasPrefix(root)
    }
}
