// Whole requests through the HTTP connection handler on an EmbeddedChannel: arbitrary bytes in,
// as the socket would deliver them, on the embedded store. Properties:
// - no crash, whatever the bytes;
// - what comes out is a sequence of complete HTTP/1.1 responses, each with a Content-Length
//   that matches its body (none after a HEAD), and nothing after a response that says `Connection: close`;
// - how the bytes are split into reads does not change the answers: the same statuses, in the
//   same order, whether the input arrives whole or in two pieces (cut where the first byte says).
import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI

/// The statuses of the responses in `output`, checking that each is complete and that nothing
/// follows a closing one.
func statuses(_ output: [UInt8], input: [UInt8]) -> [Int] {
    var statuses: [Int] = []
    var rest = output[...]
    let separator = Array("\r\n\r\n".utf8)
    while !rest.isEmpty {
        guard let end = rest.firstRange(of: separator) else {
            fatalError("fuzz property violated: a response head without its end, for \(show(input))")
        }
        let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        require(lines.first?.hasPrefix("HTTP/1.1 ") == true, "a response does not start with HTTP/1.1: \(show(Array(head.utf8)))")
        let status = lines.first.flatMap { Int($0.dropFirst(9).prefix(3)) } ?? 0
        require((100...599).contains(status), "status \(status) in \(head)")
        let fields = lines.dropFirst().map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (parts.first.map { $0.lowercased() } ?? "", parts.count > 1 ? String(parts[1]).trimmingCharacters(in: " ") : "")
        }
        var length = 0
        if status != 100 {
            let lengths = fields.filter { $0.0 == "content-length" }
            require(lengths.count == 1, "\(lengths.count) Content-Length headers in \(head)")
            length = Int(lengths[0].1) ?? -1
            require(length >= 0, "Content-Length \(lengths[0].1)")
            // The answer to a HEAD request has the length of a GET's body but no body: what
            // follows is then the next response, or nothing. (Bodies are JSON or YAML.)
            let after = rest[end.upperBound...]
            if after.isEmpty || after.starts(with: "HTTP/1.1 ".utf8) {
                length = 0
            }
            require(end.upperBound + length <= rest.endIndex, "Content-Length \(lengths[0].1) but \(rest.endIndex - end.upperBound) bytes follow")
        }
        statuses.append(status)
        rest = rest[(end.upperBound + length)...]
        if fields.contains(where: { $0.0 == "connection" && $0.1 == "close" }) {
            require(rest.isEmpty, "\(rest.count) bytes after a closing response, for \(show(input))")
        }
    }
    return statuses
}

extension String {
    func trimmingCharacters(in blank: Character) -> String {
        String(drop { $0 == blank }.reversed().drop { $0 == blank }.reversed())
    }
}

/// Made once: a registry of every series is costly to build.
let metrics = SessiondMetrics()
let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

/// Feeds `pieces` to a fresh connection on a fresh store and returns the bytes written back.
func exchange(_ pieces: [ArraySlice<UInt8>]) -> [UInt8] {
    let clock = ManualClock()
    let store = MemoryStore(policy: LifetimePolicy(), clock: clock, configuration: .init(shardCount: 1), logger: logger)
    let application = Application(
        services: ["": SessionService(store: store, policy: LifetimePolicy(), clock: clock)], keys: nil, storeName: "memory",
        limits: RequestLimits(maxBodyBytes: 4096, maxDataDepth: 8, maxHeadBytes: 2048), metrics: metrics, logger: logger
    )
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(HTTPConnectionHandler(responder: application, logger: logger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        var output: [UInt8] = []
        for piece in pieces where channel.isActive {
            try channel.writeInbound(ByteBuffer(bytes: piece))
            channel.embeddedEventLoop.run()
            while let part = try channel.readOutbound(as: ByteBuffer.self) { output += part.readableBytesView }
        }
        return output
    } catch {
        fatalError("fuzz property violated: the channel failed: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    // The first byte says where the rest is cut in two.
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let first = input.first, input.count > 1 else { return 0 }
    let cut = 1 + Int(first) % (input.count - 1)
    let whole = statuses(exchange([input[1...]]), input: input)
    let split = statuses(exchange([input[1..<cut], input[cut...]]), input: input)
    require(split == whole, "split at \(cut): \(split), whole: \(whole) for \(show(input))")
    return 0
}
