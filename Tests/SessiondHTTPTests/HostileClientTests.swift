import NIOCore
import NIOEmbedded
import SessionCore
import Testing

@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp

/// Counts the `read` calls that pass it on their way to the socket.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var reads = 0
    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

@Suite("Hostile clients: framing, limits, backpressure")
struct HostileClientTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func upgradeIsIgnoredAndTheConnectionGoesOn() throws {
        let harness = try HTTPHarness()
        let h2c = "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
        let websocket = "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let responses = try harness.exchange(bytes(h2c + websocket + "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(responses.map(\.status) == [200, 200, 200])
        #expect(harness.channel.isActive)
    }

    @Test func connectGetsACompleteProblemAndPipelinedRequestsAreAnswered() throws {
        let harness = try HTTPHarness()
        let raw = "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\nGET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
        let responses = try harness.exchange(bytes(raw))
        #expect(responses.map(\.status) == [405, 200])
        #expect(responses.first?.problemSlug == "method-not-allowed")
        #expect(responses.first?.header("Content-Length") == String(responses.first?.body.utf8.count ?? -1))
        #expect(responses.first?.header("Allow") != nil)
        #expect(harness.channel.isActive)
    }

    @Test func aClientThatDoesNotReadItsAnswersIsNotReadFrom() throws {
        let harness = try HTTPHarness()
        let counter = ReadCounter()
        try harness.channel.pipeline.syncOperations.addHandler(counter, position: .first)
        #expect(try harness.exchange(bytes("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")).map(\.status) == [200])

        // The answers pile up unsent: the channel is not writable.
        harness.channel.isWritable = false
        harness.channel.pipeline.fireChannelWritabilityChanged()
        let pipelined = String(repeating: "GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n", count: 3)
        #expect(try harness.exchange(bytes(pipelined)).isEmpty, "nothing is answered while answers cannot be sent")
        let readsBefore = counter.reads
        harness.channel.read()
        #expect(counter.reads == readsBefore, "no read reaches the socket while the client does not read")

        // The client reads again: what it pipelined is answered, and reading resumes.
        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(try harness.exchange([]).map(\.status) == [200, 200, 200])
        #expect(counter.reads == readsBefore + 1)
    }

    @Test func whileAnAnswerIsPendingReadingGoesOnUntil64KiBWait() throws {
        let harness = try HTTPHarness(store: LaterStore(base: MemoryStore(policy: LifetimePolicy())))
        let counter = ReadCounter()
        try harness.channel.pipeline.syncOperations.addHandler(counter, position: .first)
        // The store answers on a later loop tick: the loop is not run, so the GET stays pending.
        try harness.channel.writeInbound(ByteBuffer(bytes: bytes("GET /sessions/\(SessionID.random()) HTTP/1.1\r\nHost: x\r\n\r\n")))
        harness.channel.read()
        #expect(counter.reads == 1, "a request in flight does not stop reading by itself")
        let pipelined = String(repeating: "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n", count: 2_200)  // 70 KiB
        try harness.channel.writeInbound(ByteBuffer(bytes: bytes(pipelined)))
        harness.channel.read()
        #expect(counter.reads == 1, "64 KiB wait behind the answer: no more reading")
        let responses = try harness.exchange([])
        #expect(responses.count == 2_201)
        #expect(responses.first?.status == 404 && responses.last?.status == 200)
        #expect(counter.reads == 2, "the waiting requests answered, reading resumes")
    }

    @Test func transferEncodingInHTTP10Is400AndCloses() throws {
        let harness = try HTTPHarness()
        let raw = "POST /sessions HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        let responses = try harness.exchange(bytes(raw))
        #expect(responses.map(\.status) == [400])
        #expect(responses.first?.problemSlug == "bad-request")
        #expect(!harness.channel.isActive)
    }

    @Test(arguments: [
        ("Transfer-Encoding: identity, chunked\r\n", 501, "unsupported-transfer-coding"),
        ("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501, "unsupported-transfer-coding"),
        ("Transfer-Encoding: chunked, identity\r\n", 400, "bad-request"),
        ("Transfer-Encoding: chunked, chunked\r\n", 400, "bad-request"),
        ("Transfer-Encoding: chunked\r\nContent-Length: 7\r\n", 400, "bad-request"),
        ("Content-Length: 7\r\nContent-Length: 8\r\n", 400, "bad-request"),
        ("Content-Length: -7\r\n", 400, "bad-request"),
        ("Content-Length : 7\r\n", 400, "bad-request"),
        ("X-Folded: a\r\n b\r\n", 400, "bad-request"),
        ("X-Control: a\u{01}b\r\n", 400, "bad-request"),
    ])
    func untrustworthyFramingIsRefusedAndCloses(headers: String, status: Int, slug: String) throws {
        let harness = try HTTPHarness()
        let raw = "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(headers)\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n"
        let responses = try harness.exchange(bytes(raw))
        #expect(responses.map(\.status) == [status])
        #expect(responses.first?.problemSlug == slug)
        #expect(!harness.channel.isActive)
        #expect((harness.store as? MemoryStore)?.storedCount == 0, "a refused request stores nothing")
    }

    @Test func linesEndWithCRLFOnly() throws {
        for raw in ["GET /livez HTTP/1.1\nHost: x\n\n", "GET /livez HTTP/1.1\r\nHost: x\r\r\n\r\n"] {
            let harness = try HTTPHarness()
            #expect(try harness.exchange(bytes(raw)).map(\.status) == [400])
            #expect(!harness.channel.isActive)
        }
    }

    @Test func aValidChunkedBodyStillCreates() throws {
        let harness = try HTTPHarness()
        let raw = "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\n{\"dat\r\n9\r\na\":{\"a\":1\r\n2\r\n}}\r\n0\r\nX-Trailer: t\r\n\r\n"
        let responses = try harness.exchange(bytes(raw))
        #expect(responses.map(\.status) == [201])
        #expect(responses.first?.body.contains(#""data":{"a":1}"#) == true)
    }

    @Test func aRequestArrivingOneByteAtATimeIsAnsweredOnce() throws {
        let harness = try HTTPHarness()
        let raw = "\r\nPOST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4\r\n{\"da\r\nc\r\nta\":{\"b\":2}}\r\n0\r\n\r\nGET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
        var output: [UInt8] = []
        for byte in bytes(raw) { output += try harness.exchangeRaw([byte]) }
        #expect(HTTPHarness.parse(output).map(\.status) == [201, 200])
    }

    @Test func theHeadLimitCountsTheWholeHead() throws {
        let limit = RequestLimits().maxHeadBytes
        #expect(limit == 81_920)
        // Exactly at the limit: served. One byte more: 431.
        for (extra, status) in [(0, 200), (1, 431)] {
            let start = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Pad: "
            let padding = String(repeating: "p", count: limit - start.utf8.count - 4 + extra)
            let harness = try HTTPHarness()
            let responses = try harness.exchange(bytes(start + padding + "\r\n\r\n"))
            #expect(responses.map(\.status) == [status])
        }
        // 10,000 short lines: 119 KB of head, though the names and values are only 80 KB.
        let lines = (0..<10_000).map { "X-Filler-\(100_000 + $0): a\r\n" }.joined()
        let harness = try HTTPHarness()
        let responses = try harness.exchange(bytes("GET /livez HTTP/1.1\r\nHost: x\r\n" + lines + "\r\n"))
        #expect(responses.map(\.status) == [431])
        #expect(responses.first?.problemSlug == "header-too-large")
        #expect(!harness.channel.isActive)
    }

    @Test func aRequestLineOverTheLimitIs414() throws {
        let harness = try HTTPHarness()
        let target = "/" + String(repeating: "a", count: 100_000)
        let responses = try harness.exchange(bytes("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(responses.map(\.status) == [414])
        #expect(responses.first?.problemSlug == "uri-too-long")
        #expect(!harness.channel.isActive)
    }

    @Test func otherHTTPVersionsAre505() throws {
        let harness = try HTTPHarness()
        let responses = try harness.exchange(bytes("GET /livez HTTP/2.0\r\nHost: x\r\n\r\n"))
        #expect(responses.map(\.status) == [505])
        #expect(responses.first?.problemSlug == "http-version-not-supported")
    }

    @Test func aHeadThatTricklesInGets408AtItsDeadline() throws {
        let harness = try HTTPHarness()
        #expect(try harness.exchange(bytes("GET /livez HTTP/1.1\r\nHo")).isEmpty)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(harness.channel.isActive)
        let output = try harness.exchangeRaw(bytes("st: x\r\nX-Slow: 1"))
        #expect(output.isEmpty)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let responses = try harness.exchange([])
        #expect(responses.map(\.status) == [408])
        #expect(responses.first?.problemSlug == "request-timeout")
        #expect(!harness.channel.isActive)
    }

    @Test func aBodyThatTricklesInGets408AndAWholeRequestArmsNoDeadline() throws {
        let harness = try HTTPHarness()
        #expect(try harness.exchange(bytes("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")).map(\.status) == [200])
        // An idle keep-alive connection is not timed out by the request deadline.
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(45))
        #expect(harness.channel.isActive)
        let head = "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"data\":"
        #expect(try harness.exchange(bytes(head)).isEmpty)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try harness.exchange([]).map(\.status) == [408])
        #expect(!harness.channel.isActive)
    }
}
