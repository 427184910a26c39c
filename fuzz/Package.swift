// swift-tools-version:5.4
// libFuzzer targets for sessiond (issue #10). A package of its own, so that `swift build` and
// `swift test` in the root package never see it and the release binary never contains it.
//
// Build only with the sanitizers (libFuzzer supplies `main`), in a build folder of its own:
//   swift build --package-path fuzz --scratch-path fuzz/.build -Xswiftc -sanitize=fuzzer,address
// or simply `scripts/fuzz` from the repository root (builds, runs, prints a table).
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links every executable with its `main`
// renamed to `<Target>_main` (so tests can link executables), and a fuzzer has no main of its
// own: libFuzzer's is the one wanted. (Hence also Swift 5 language mode, and no `platforms`.)
import PackageDescription

/// Each fuzzer defines `LLVMFuzzerTestOneInput` with `@_cdecl` and no `main` of its own.
let parseAsLibrary: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: parseAsLibrary)
}

let package = Package(
    name: "sessiond-fuzz",
    dependencies: [
        .package(name: "sessiond", path: ".."),
        // The same requirement as the root package's, for NIOEmbedded.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // Independent reference models the fuzzers compare the project's parsers against.
        .target(name: "FuzzSupport"),
        fuzzer("FuzzJSON", [.product(name: "JSONDocument", package: "sessiond")]),
        fuzzer("FuzzMergePatch", [.product(name: "JSONDocument", package: "sessiond")]),
        fuzzer("FuzzRESP", [
            .product(name: "RedisClient", package: "sessiond"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        // IfMatch and QueryParameters are internal to SessiondAPI: `@testable import` (debug
        // builds are built for testing).
        fuzzer("FuzzIfMatch", [
            .product(name: "SessiondAPI", package: "sessiond"),
            .product(name: "SessionCore", package: "sessiond"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        fuzzer("FuzzQuery", [.product(name: "SessiondAPI", package: "sessiond")]),
        // Whole requests through the HTTP connection handler on an EmbeddedChannel.
        fuzzer("FuzzHTTP", [
            .product(name: "HTTPTransport", package: "sessiond"),
            .product(name: "SessiondAPI", package: "sessiond"),
            .product(name: "SessionCore", package: "sessiond"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
