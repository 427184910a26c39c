// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sessiond",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sessiond", targets: ["sessiond"]),
        .library(name: "SessionCore", targets: ["SessionCore"]),
        .library(name: "HTTPTransport", targets: ["HTTPTransport"]),
        .library(name: "SessiondAPI", targets: ["SessiondAPI"]),
        // For the fuzzers in fuzz/ (a separate package that depends on this one by path).
        .library(name: "JSONDocument", targets: ["JSONDocument"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "DurableStore", targets: ["DurableStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // jansson, the C JSON library (Debian: libjansson-dev). Only JSONDocument imports it.
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        .target(
            name: "JSONDocument",
            dependencies: ["CJansson"]
        ),
        // hiredis, the C Redis client (Debian: libhiredis-dev): only its reply parser is used.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // TLS for Redis connections (rediss://) on SwiftNIO SSL, apart from RedisClient so that
        // the fuzzers, which build RedisClient, need no BoringSSL.
        .target(
            name: "RedisTLS",
            dependencies: [
                "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "RedisStore",
            dependencies: [
                "RedisClient",
                "SessionCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SessionCore",
            dependencies: [
                "JSONDocument",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The embedded store made durable (--data-dir): an append-only log with snapshots, its
        // writer and compactor threads, start-up recovery. docs/DURABLE-STORE.md has the format.
        .target(
            name: "DurableStore",
            dependencies: [
                "SessionCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP/1.1 on SwiftNIO: parser, connection handling, limits, deadlines, backpressure, the
        // response writer, the listener. Knows nothing of sessions.
        .target(
            name: "HTTPTransport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // api/openapi.yaml, put into the binary at build time (the file is a link to it).
        .target(
            name: "SessiondOpenAPI",
            resources: [.embedInCode("openapi.yaml")]
        ),
        // The API: routes, handlers, problems, API keys, metrics. Answers requests for the transport.
        .target(
            name: "SessiondAPI",
            dependencies: [
                "HTTPTransport",
                "SessionCore",
                "JSONDocument",
                "SessiondOpenAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The composition root: configuration, the choice and wiring of stores, logging, lifecycle.
        .target(
            name: "SessiondApp",
            dependencies: [
                "HTTPTransport",
                "SessiondAPI",
                "SessionCore",
                "RedisClient",
                "RedisStore",
                "RedisTLS",
                "DurableStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "sessiond",
            dependencies: [
                "SessionCore",
                "SessiondApp",
                "SessiondAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "JSONDocumentTests", dependencies: ["JSONDocument"]),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SessionCoreTests",
            dependencies: [
                "SessionCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Starts and stops a real redis-server for the tests that need one.
        .target(name: "RedisTestSupport", path: "Tests/RedisTestSupport"),
        .testTarget(
            name: "RedisStoreTests",
            dependencies: [
                "RedisStore",
                "RedisClient",
                "RedisTLS",
                "RedisTestSupport",
                "SessionCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DurableStoreTests",
            dependencies: [
                "DurableStore",
                "SessionCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: [
                "SessionCore",
                "DurableStore",
                "RedisStore",
                "RedisClient",
                "RedisTLS",
                "RedisTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SessiondHTTPTests",
            dependencies: [
                "HTTPTransport",
                "SessiondAPI",
                "SessiondApp",
                "SessiondOpenAPI",
                "SessionCore",
                "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
