// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "EmbeddingGemma",
    // Hummingbird 2 (the server) needs macOS 14 / iOS 17.
    platforms: [.macOS(.v14), .iOS(.v17)],
    products: [
        .library(name: "EmbeddingGemma", targets: ["EmbeddingGemma"]),
        .library(name: "GemmaSearch", targets: ["GemmaSearch"]),
        .library(name: "GemmaAnswering", targets: ["GemmaAnswering"]),
        .library(name: "GemmaServer", targets: ["GemmaServer"]),
        .library(name: "GemmaClassify", targets: ["GemmaClassify"]),
        .executable(name: "gemma-embed", targets: ["gemma-embed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SQLite with WAL, migrations and FTS5 for the search index.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // HTTP server (SwiftNIO, graceful shutdown through swift-service-lifecycle, swift-log).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Prometheus exposition of the server's counters and histograms (`GET /metrics`).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Structured logs (the server's request lines); Hummingbird logs through it too.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // HTTP client of GemmaAnswering's chat-server generator (streamed chat answers from an
        // OpenAI-compatible or Ollama server); Hummingbird's test support already builds on it.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.26.0"),
        // ByteBuffer and HTTP types the chat-server client uses directly (AsyncHTTPClient and
        // Hummingbird build on it).
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // The PostgreSQL + pgvector store: postgres-nio's connection pool and wire protocol
        // (pgvector's binary vector format is the project's own), TLS through swift-nio-ssl.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // OpenBLAS on Linux (Debian: libopenblas-dev). Apple platforms use Accelerate instead.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // AVX2+FMA kernels chosen at run time (Swift itself targets baseline SSE2 on x86-64).
        .target(name: "CEmbeddingGemmaKernels"),
        .target(
            name: "EmbeddingGemma",
            dependencies: [
                "CEmbeddingGemmaKernels",
                .target(name: "COpenBLAS", condition: .when(platforms: [.linux])),
            ]
        ),
        // The semantic index: walking, text extraction, chunking, storage (one SQLite file, or
        // PostgreSQL + pgvector shared by many indexers and servers), search.
        .target(
            name: "GemmaSearch",
            dependencies: [
                "EmbeddingGemma",
                "CEmbeddingGemmaKernels",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Answers grounded in the index: the prompt, the answerer, the local generator, the
        // chat-server generator and the chat wire format (OpenAI SSE chunks, Ollama NDJSON lines)
        // that the server writes and that generator reads. The only library with an HTTP client.
        .target(
            name: "GemmaAnswering",
            dependencies: [
                "EmbeddingGemma",
                "GemmaSearch",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Classification heads (multinomial logistic regression on embeddings) and query routing.
        .target(
            name: "GemmaClassify",
            dependencies: ["EmbeddingGemma"]
        ),
        // The server: Ollama's and OpenAI's embedding APIs over one batching queue, and their chat
        // and generation APIs on a Gemma 3 generator (the chat wire format is GemmaAnswering's).
        .target(
            name: "GemmaServer",
            dependencies: [
                "EmbeddingGemma",
                "GemmaSearch",
                "GemmaAnswering",
                "GemmaClassify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The CLI: each verb parses its arguments, calls the libraries and prints; it adds its own
        // hints (options, commands) to the libraries' errors.
        .executableTarget(
            name: "gemma-embed",
            dependencies: [
                "EmbeddingGemma",
                "GemmaSearch",
                "GemmaAnswering",
                "GemmaServer",
                "GemmaClassify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fixtures for the tests: a tiny random model in the sentence-transformers layout.
        .target(
            name: "EmbeddingGemmaTestSupport",
            path: "Sources/EmbeddingGemmaTestSupport"
        ),
        .testTarget(
            name: "EmbeddingGemmaTests",
            dependencies: ["EmbeddingGemma", "EmbeddingGemmaTestSupport", "CEmbeddingGemmaKernels"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "EmbeddingGemmaModelTests",
            dependencies: ["EmbeddingGemma"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "GemmaEmbedCLITests",
            dependencies: ["EmbeddingGemma", "EmbeddingGemmaTestSupport", "gemma-embed"]
        ),
        .testTarget(
            name: "GemmaSearchTests",
            dependencies: [
                "GemmaSearch", "EmbeddingGemma", "EmbeddingGemmaTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "GemmaAnsweringTests",
            dependencies: [
                "GemmaAnswering", "EmbeddingGemma", "EmbeddingGemmaTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "GemmaServerTests",
            dependencies: [
                "GemmaServer", "GemmaAnswering", "GemmaSearch", "GemmaClassify", "EmbeddingGemma", "EmbeddingGemmaTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "GemmaClassifyTests",
            dependencies: ["GemmaClassify", "EmbeddingGemma", "EmbeddingGemmaTestSupport"],
            exclude: ["Fixtures"]
        ),
        // Classification accuracy on ../shared/classify-eval with the real model (release tier).
        .testTarget(
            name: "GemmaClassifyModelTests",
            dependencies: ["GemmaClassify", "EmbeddingGemma"]
        ),
        // Retrieval quality on ../shared/search-eval with the real model (release tier).
        .testTarget(
            name: "GemmaSearchModelTests",
            dependencies: ["GemmaSearch", "EmbeddingGemma", "EmbeddingGemmaTestSupport"]
        ),
    ]
)
