import Foundation
import NIOCore
import SessionCore
@testable import SessiondHTTP
import Testing

/// A store that is down: every call fails as a Redis outage would.
struct UnavailableStore: SessionStore {
    private func fail<T>(_ loop: any EventLoop) -> EventLoopFuture<T> {
        loop.makeFailedFuture(SessionStoreError.unavailable("connection refused"))
    }
    func insert(_ session: Session, on eventLoop: any EventLoop) -> EventLoopFuture<Void> { fail(eventLoop) }
    func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> { fail(eventLoop) }
    func update(_ id: SessionID, _ mutation: SessionMutation, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<UpdateOutcome> {
        fail(eventLoop)
    }
    func remove(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> { fail(eventLoop) }
    func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> { fail(eventLoop) }
}

@Suite("Operations endpoints and connection handling")
struct OperationsTests {
    @Test func livezAndReadyz() throws {
        let harness = try HTTPHarness()
        let live = try harness.send("GET", "/livez")
        #expect(live.status == 200)
        #expect(live.body == #"{"status":"alive"}"#)
        let ready = try harness.send("GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body == #"{"status":"ready","store":"memory"}"#)
    }

    @Test func aStoreThatIsDownGives503NeverNotFound() throws {
        let harness = try HTTPHarness(store: UnavailableStore())
        let sid = SessionID.random().description
        for (method, path, body) in [
            ("GET", "/sessions/\(sid)", nil), ("PUT", "/sessions/\(sid)", #"{"data":{}}"#), ("DELETE", "/sessions/\(sid)", nil),
            ("POST", "/sessions", #"{"data":{}}"#), ("GET", "/readyz", nil),
        ] as [(String, String, String?)] {
            let response = try harness.send(method, path, body: body)
            #expect(response.status == 503, "\(method) \(path)")
            #expect(response.problemSlug == "store-unavailable")
            #expect(response.header("Retry-After") == "1")
        }
        #expect(try harness.send("GET", "/livez").status == 200)
    }

    @Test func theOpenAPIDocumentServedIsTheOneInApi() throws {
        let response = try HTTPHarness().send("GET", "/openapi.yaml")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/yaml; charset=utf-8")
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../api/openapi.yaml")
        let onDisk = try String(contentsOf: file, encoding: .utf8)
        #expect(response.body == onDisk, "run scripts/embed-openapi after editing api/openapi.yaml")
        #expect(onDisk.hasPrefix("openapi: 3.1"))
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let harness = try HTTPHarness()
        let raw = "GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nPOST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        let responses = try harness.exchange(Array(raw.utf8))
        #expect(responses.map(\.status) == [200, 404, 201])
        #expect(harness.channel.isActive)
    }

    @Test func connectionCloseIsHonoured() throws {
        let harness = try HTTPHarness()
        let responses = try harness.exchange(Array("GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(responses.first?.header("Connection") == "close")
        #expect(!harness.channel.isActive)
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() throws {
        let closing = try HTTPHarness()
        _ = try closing.exchange(Array("GET /livez HTTP/1.0\r\n\r\n".utf8))
        #expect(!closing.channel.isActive)
        let keeping = try HTTPHarness()
        let responses = try keeping.exchange(Array("GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        #expect(responses.first?.header("Connection") == "keep-alive")
        #expect(keeping.channel.isActive)
    }
}
