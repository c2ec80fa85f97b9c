import Foundation
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The web page's routes: its three files from the binary, the redirects, the key rule.
@Suite("Web page routes")
struct WebUIRouteTests {
    static func text(_ response: TestResponse) -> String {
        String(decoding: response.body.readableBytesView, as: UTF8.self)
    }

    @Test("/ui/, app.js and app.css: content types, no-cache with an ETag, 304 on a match")
    func assets() async throws {
        try await ServerRouteTests.app().test(.router) { client in
            let expected = [("/ui/", "text/html; charset=utf-8", "<title>gemma-embed search</title>"),
                            ("/ui/app.js", "text/javascript; charset=utf-8", "/api/search"),
                            ("/ui/app.css", "text/css; charset=utf-8", "@media (max-width: 30rem)")]
            for (path, type, fragment) in expected {
                var etag = ""
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == type)
                    #expect(response.headers[.cacheControl] == "no-cache")
                    #expect(Self.text(response).contains(fragment), "\(path)")
                    #expect(response.headers[.contentLength] == String(response.body.readableBytes))
                    etag = try #require(response.headers[.eTag])
                }
                #expect(etag.hasPrefix("\"") && etag.count > 3)
                try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: etag]) { response in
                    #expect(response.status == .notModified, "\(path)")
                    #expect(response.body.readableBytes == 0)
                }
                try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: "\"other\""]) { response in
                    #expect(response.status == .ok)
                }
            }
            try await client.execute(uri: "/ui/", method: .get) { response in
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'self'"))
                // Everything the page loads comes from the server itself.
                let page = Self.text(response)
                #expect(!page.contains("http://") && !page.contains("https://"))
            }
        }
    }

    @Test("/ui redirects to /ui/; GET / sends browsers to the page and everyone else gets Ollama's answer")
    func redirects() async throws {
        try await ServerRouteTests.app().test(.router) { client in
            try await client.execute(uri: "/ui", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/ui/")
            }
            let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            try await client.execute(uri: "/", method: .get, headers: [.accept: browser]) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/ui/")
            }
            for accept in [nil, "*/*", "application/json"] {
                var headers = HTTPFields()
                if let accept { headers[.accept] = accept }
                try await client.execute(uri: "/", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    #expect(Self.text(response) == "Ollama is running")
                }
            }
        }
    }

    @Test("with an API key the page is served without it and the API still needs it")
    func apiKey() async throws {
        try await ServerRouteTests.app(apiKey: "s3cret").test(.router) { client in
            for path in ["/ui", "/ui/", "/ui/app.js", "/ui/app.css"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status != .unauthorized, "\(path)")
                }
            }
            try await client.execute(uri: "/api/tags", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/tags", method: .get, headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/uix", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test("wantsPage reads the Accept header")
    func wantsPage() {
        func request(_ accept: String?) -> Request {
            var head = HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/")
            if let accept { head.headerFields[.accept] = accept }
            return Request(head: head, body: .init(buffer: ByteBuffer()))
        }
        #expect(WebUI.wantsPage(request("text/html")))
        #expect(WebUI.wantsPage(request("TEXT/HTML;q=0.9")))
        #expect(!WebUI.wantsPage(request(nil)))
        #expect(!WebUI.wantsPage(request("*/*")))
    }
}
