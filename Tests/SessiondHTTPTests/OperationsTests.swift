import Foundation
import NIOCore
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import SessiondOpenAPI
import Testing

/// A store that is down: every call fails as a Redis outage would.
struct UnavailableStore: SessionStore {
    private func fail<T>(_ loop: any EventLoop) -> EventLoopFuture<T> {
        loop.makeFailedFuture(SessionStoreError.unavailable("connection refused"))
    }
    func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> { fail(eventLoop) }
    func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> { fail(eventLoop) }
    func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        fail(eventLoop)
    }
    func remove(_ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        fail(eventLoop)
    }
    func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> { fail(eventLoop) }
    func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        fail(eventLoop)
    }
    func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome> {
        fail(eventLoop)
    }
    func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        fail(eventLoop)
    }
    func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState> {
        fail(eventLoop)
    }
    func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome> {
        fail(eventLoop)
    }
    func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        fail(eventLoop)
    }
    func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        fail(eventLoop)
    }
    var recordsEvents: Bool { true }
    func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage> { fail(eventLoop) }
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
            ("PATCH", "/sessions/\(sid)", #"{"data":{}}"#), ("POST", "/sessions/\(sid)/touch", nil),
            ("POST", "/sessions/\(sid)/rotate", nil), ("GET", "/sessions/\(sid)?touch=true", nil),
            ("GET", "/subjects/user-1/sessions", nil), ("DELETE", "/subjects/user-1/sessions", nil),
            ("DELETE", "/subjects/user-1/sessions/\(String(repeating: "a", count: 32))", nil),
        ] as [(String, String, String?)] {
            let type = method == "PATCH" ? "application/merge-patch+json" : "application/json"
            let response = try harness.send(method, path, body: body, contentType: type)
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
        #expect(response.body == onDisk, "the binary serves api/openapi.yaml as it was when it was built")
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

/// Wraps a store so that its answers arrive later, as Redis' do (on the next loop tick).
struct LaterStore: SessionStore {
    let base: any SessionStore
    private func later<T: Sendable>(_ future: EventLoopFuture<T>, _ loop: any EventLoop) -> EventLoopFuture<T> {
        let promise = loop.makePromise(of: T.self)
        loop.execute { future.cascade(to: promise) }
        return promise.futureResult
    }
    func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        later(base.insert(session, replacing: replacing, on: eventLoop), eventLoop)
    }
    func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        later(base.load(id, at: now, on: eventLoop), eventLoop)
    }
    func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        later(base.update(id, mutation, if: condition, at: now, on: eventLoop), eventLoop)
    }
    func remove(_ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        later(base.remove(id, if: condition, at: now, on: eventLoop), eventLoop)
    }
    func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        later(base.sessions(of: subject, at: now, on: eventLoop), eventLoop)
    }
    func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RemoveOutcome> {
        later(base.remove(handle: handle, of: subject, because: reason, at: now, on: eventLoop), eventLoop)
    }
    func freeze(
        _ id: SessionID, at version: UInt64, successor: SessionHandle, readableUntil: Timestamp, until: Timestamp, now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<FreezeOutcome> {
        later(base.freeze(id, at: version, successor: successor, readableUntil: readableUntil, until: until, now: now, on: eventLoop), eventLoop)
    }
    func withdraw(_ id: SessionID, pendingFrom original: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        later(base.withdraw(id, pendingFrom: original, at: now, on: eventLoop), eventLoop)
    }
    func rotationState(of handle: SessionHandle, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<RotationState> {
        later(base.rotationState(of: handle, at: now, on: eventLoop), eventLoop)
    }
    func admit(
        _ handle: SessionHandle, to subject: Subject, max: Int, lastSeen: Timestamp, expiresAt: Timestamp, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<AdmitOutcome> {
        later(base.admit(handle, to: subject, max: max, lastSeen: lastSeen, expiresAt: expiresAt, at: now, on: eventLoop), eventLoop)
    }
    func noteSeen(
        _ handle: SessionHandle, of subject: Subject, lastSeen: Timestamp, expiresAt: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        later(base.noteSeen(handle, of: subject, lastSeen: lastSeen, expiresAt: expiresAt, on: eventLoop), eventLoop)
    }
    func release(_ handle: SessionHandle, from subject: Subject, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        later(base.release(handle, from: subject, on: eventLoop), eventLoop)
    }
    var recordsEvents: Bool { base.recordsEvents }
    func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage> {
        later(base.events(after: after, limit: limit, on: eventLoop), eventLoop)
    }
    func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> { later(base.checkReady(on: eventLoop), eventLoop) }
}

@Suite("HTTP/1.1 details")
struct HTTPDetailTests {
    @Test func pipeliningBehindAStoreThatAnswersLater() throws {
        let harness = try HTTPHarness(store: LaterStore(base: MemoryStore(policy: LifetimePolicy())))
        let sid = SessionID.random()
        let raw = "GET /sessions/\(sid) HTTP/1.1\r\nHost: x\r\n\r\nGET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
        let responses = try harness.exchange(Array(raw.utf8))
        #expect(responses.map(\.status) == [404, 200, 200])
    }

    @Test func headIsGetWithoutTheBody() throws {
        let harness = try HTTPHarness()
        let created = try harness.send("POST", "/sessions", body: #"{"data":{"a":1}}"#)
        let sid = try #require(created.field("sid"))
        let get = try harness.send("GET", "/sessions/\(sid)")
        let raw = String(decoding: try harness.exchangeRaw(Array("HEAD /sessions/\(sid) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)), as: UTF8.self)
        #expect(raw.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(raw.hasSuffix("\r\n\r\n"), "no body after the head")
        let head = HTTPHarness.parse(Array(raw.utf8)).first
        #expect(head?.header("Content-Length") == get.header("Content-Length"))
        #expect(head?.header("ETag") == "\"1\"")
        // The connection goes on.
        #expect(try harness.send("GET", "/livez").body == #"{"status":"alive"}"#)
    }

    @Test func everyResponseHasADate() throws {
        let harness = try HTTPHarness()
        let response = try harness.send("GET", "/nope")
        let date = try #require(response.header("Date"))
        #expect(date.hasSuffix(" GMT") && date.count == 29)
        #expect(HTTPDate.format(secondsSinceEpoch: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSinceEpoch: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func expect100ContinueGetsAnInterimResponse() throws {
        let harness = try HTTPHarness()
        let head = "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
        let interim = try harness.exchange(Array(head.utf8))
        #expect(interim.map(\.status) == [100])
        let final = try harness.exchange(Array(#"{"data":{}}"#.utf8))
        #expect(final.map(\.status) == [201])
    }

    @Test func hostIsRequiredOnceInHTTP11() throws {
        let missing = try HTTPHarness().exchange(Array("GET /livez HTTP/1.1\r\n\r\n".utf8))
        #expect(missing.first?.status == 400)
        #expect(missing.first?.problemSlug == "bad-request")
        let twice = try HTTPHarness().exchange(Array("GET /livez HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".utf8))
        #expect(twice.first?.status == 400)
        let http10 = try HTTPHarness().exchange(Array("GET /livez HTTP/1.0\r\n\r\n".utf8))
        #expect(http10.first?.status == 200)
    }

    @Test func absoluteFormTargets() throws {
        let harness = try HTTPHarness()
        let responses = try harness.exchange(Array("GET http://127.0.0.1:8080/livez HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8))
        #expect(responses.first?.status == 200)
    }
}

@Suite("Problem types")
struct ProblemTypeTests {
    @Test func theOpenAPIDocumentListsExactlyTheProblemTypes() throws {
        let document = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        let prefix = "        - https://sessiond.dev/problems/"
        let listed = Set(document.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        let known = Set(ProblemType.all.map(\.slug))
        #expect(known.count == ProblemType.all.count, "a slug is listed twice in ProblemType.all")
        #expect(listed == known, "only in the document: \(listed.subtracting(known)); only in ProblemType.all: \(known.subtracting(listed))")
    }
}
