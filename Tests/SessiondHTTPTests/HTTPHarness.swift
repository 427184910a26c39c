import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp

/// A parsed HTTP response from the server's bytes.
struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The `type` slug of a problem body, or nil.
    var problemSlug: String? {
        guard header("Content-Type") == "application/problem+json",
              let range = body.range(of: #""type":"https://sessiond.dev/problems/"#)
        else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }

    /// A top-level string or scalar field of a flat JSON body, read textually.
    func field(_ name: String) -> String? {
        guard let range = body.range(of: "\"\(name)\":") else { return nil }
        let rest = body[range.upperBound...]
        if rest.first == "\"" { return String(rest.dropFirst().prefix { $0 != "\"" }) }
        return String(rest.prefix { $0 != "," && $0 != "}" })
    }
}

/// Log lines captured in memory.
final class CapturedLogs: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])
    var all: [String] { lines.withLockedValue { $0 } }
    func append(_ line: String) { lines.withLockedValue { $0.append(line) } }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        sink.append(([event.message.description] + fields).joined(separator: " "))
    }
}

/// The real connection handler on an `EmbeddedChannel`:
/// request bytes in, response bytes out, no sockets, deterministic time.
final class HTTPHarness {
    let channel = EmbeddedChannel()
    let clock = ManualClock()
    let logs = CapturedLogs()
    let store: any SessionStore

    init(
        limits: RequestLimits = .init(), policy: LifetimePolicy = .init(), store: (any SessionStore)? = nil, maxSessionsPerSubject: Int = 0
    ) throws {
        let clock = self.clock
        self.store = store ?? MemoryStore(policy: policy, clock: clock)
        let sink = logs
        let logger = Logger(label: "test") { _ in CapturingLogHandler(sink: sink) }
        let application = Application(
            service: SessionService(store: self.store, policy: policy, clock: clock, maxSessionsPerSubject: maxSessionsPerSubject),
            storeName: "memory", limits: limits, logger: logger
        )
        try channel.pipeline.syncOperations.addHandler(HTTPConnectionHandler(responder: application, logger: logger))
        // An embedded channel is active once "connected"; closing makes it inactive again.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    }

    deinit {
        _ = try? channel.finish()
    }

    /// Sends raw bytes and returns every complete response written back.
    func exchange(_ bytes: [UInt8]) throws -> [TestResponse] {
        Self.parse(try exchangeRaw(bytes))
    }

    /// Sends raw bytes and returns the raw bytes written back.
    func exchangeRaw(_ bytes: [UInt8]) throws -> [UInt8] {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        channel.embeddedEventLoop.run()
        var output: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            if case let .byteBuffer(buffer) = part { output += buffer.readableBytesView }
        }
        return output
    }

    /// One request; `body` gets a Content-Length.
    func send(
        _ method: String, _ path: String, body: String? = nil, bodyBytes: [UInt8]? = nil,
        contentType: String? = "application/json", headers: [(String, String)] = []
    ) throws -> TestResponse {
        let payload = bodyBytes ?? body.map { Array($0.utf8) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        if let payload {
            head += "Content-Length: \(payload.count)\r\n"
            if let contentType { head += "Content-Type: \(contentType)\r\n" }
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let responses = try exchange(Array(head.utf8) + (payload ?? []))
        guard responses.count == 1, let response = responses.first else {
            throw HarnessError.expectedOneResponse(responses.count)
        }
        return response
    }

    enum HarnessError: Error { case expectedOneResponse(Int) }

    static func parse(_ bytes: [UInt8]) -> [TestResponse] {
        var responses: [TestResponse] = []
        var rest = bytes[...]
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while let end = rest.firstRange(of: separator) {
            let headText = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
            let bodyStart = end.upperBound
            let bodyEnd = min(rest.endIndex, bodyStart + length)
            let body = String(decoding: rest[bodyStart..<bodyEnd], as: UTF8.self)
            responses.append(TestResponse(status: status, headers: headers, body: body))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}
