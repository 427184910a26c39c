// swift-tools-version:6.0
// The HTTP ceiling for bench/run: a plain SwiftNIO NIOHTTP1 server answering every request with a
// fixed 1 KiB JSON body. Benchmark only; never part of the sessiond product.
import PackageDescription

let package = Package(
    name: "nio-ceiling",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "nio-ceiling",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
