import Foundation
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

@Suite("Session endpoints over the real pipeline")
struct SessionEndpointTests {
    private func create(_ harness: HTTPHarness, _ body: String? = nil) throws -> (sid: String, response: TestResponse) {
        let response = try harness.send("POST", "/sessions", body: body)
        let sid = try #require(response.field("sid"))
        return (sid, response)
    }

    @Test func createWithoutBodyMakesAnEmptySession() throws {
        let harness = try HTTPHarness()
        let (sid, response) = try create(harness)
        #expect(response.status == 201)
        #expect(response.header("Location") == "/sessions/\(sid)")
        #expect(response.header("ETag") == "\"1\"")
        #expect(response.header("Content-Type") == "application/json; charset=utf-8")
        #expect(response.header("Cache-Control") == "no-store")
        #expect(SessionID(sid) != nil)
        #expect(response.body.contains(#""data":{}"#))
        #expect(response.field("permanent") == "false")
        #expect(response.field("version") == "1")
        #expect(response.field("ttl") == "86400")
        #expect(response.field("created_at") == harness.clock.now().rfc3339)
        #expect(response.field("expires_at") == harness.clock.now().adding(milliseconds: 86_400_000).rfc3339)
    }

    @Test func permanentSessionsGetThePermanentLifetime() throws {
        let harness = try HTTPHarness()
        let (_, response) = try create(harness, #"{"data":{"user":42},"permanent":true}"#)
        #expect(response.field("ttl") == "2678400")
        #expect(response.field("permanent") == "true")
    }

    @Test func dataReadsBackExactly() throws {
        let harness = try HTTPHarness()
        let stored = #"{"big":9007199254740993,"tenth":0.1,"tiny":1e-7,"negzero":-0.0,"s":"caf\u00e9\u0000","n":null,"a":[true,{}]}"#
        let (sid, created) = try create(harness, #"{"data":\#(stored)}"#)
        let expected = #"{"big":9007199254740993,"tenth":0.1,"tiny":1e-7,"negzero":-0.0,"s":"café\u0000","n":null,"a":[true,{}]}"#
        #expect(created.body.contains(#""data":\#(expected),"#))
        let read = try harness.send("GET", "/sessions/\(sid)")
        #expect(read.status == 200)
        #expect(read.header("ETag") == "\"1\"")
        #expect(read.body == created.body)
    }

    @Test func readOfAnUnknownOrExpiredSessionIs404() throws {
        let harness = try HTTPHarness()
        let missing = try harness.send("GET", "/sessions/\(SessionID.random())")
        #expect(missing.status == 404)
        #expect(missing.problemSlug == "session-not-found")
        let (sid, _) = try create(harness)
        harness.clock.advance(milliseconds: 86_400_000 - 1)
        #expect(try harness.send("GET", "/sessions/\(sid)").field("ttl") == "1")
        harness.clock.advance(milliseconds: 1)
        #expect(try harness.send("GET", "/sessions/\(sid)").status == 404)
    }

    @Test func putReplacesAndSlidesTheExpiry() throws {
        let harness = try HTTPHarness()
        let (sid, _) = try create(harness, #"{"data":{"a":1,"b":2}}"#)
        harness.clock.advance(milliseconds: 60_000)
        let put = try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{"c":3},"permanent":true}"#)
        #expect(put.status == 200)
        #expect(put.header("ETag") == "\"2\"")
        #expect(put.body.contains(#""data":{"c":3}"#))
        #expect(put.field("updated_at") == harness.clock.now().rfc3339)
        #expect(put.field("ttl") == "2678400")
        #expect(try harness.send("GET", "/sessions/\(sid)").body == put.body)
    }

    @Test func putNeverCreates() throws {
        let harness = try HTTPHarness()
        let sid = SessionID.random().description
        let put = try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{}}"#)
        #expect(put.status == 404)
        #expect(put.problemSlug == "session-not-found")
        #expect(try harness.send("GET", "/sessions/\(sid)").status == 404)
    }

    @Test func putAfterDeleteIs404AndDeleteIsIdempotent() throws {
        let harness = try HTTPHarness()
        let (sid, _) = try create(harness)
        #expect(try harness.send("DELETE", "/sessions/\(sid)").status == 204)
        #expect(try harness.send("DELETE", "/sessions/\(sid)").status == 204)
        #expect(try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{"late":true}}"#).status == 404)
        #expect(try harness.send("GET", "/sessions/\(sid)").status == 404)
    }

    @Test func theAccessLogNamesTheRouteNeverTheSidOrData() throws {
        let harness = try HTTPHarness()
        let (sid, _) = try create(harness, #"{"data":{"secret":"hunter2"}}"#)
        _ = try harness.send("GET", "/sessions/\(sid)")
        let lines = harness.logs.all.filter { $0.hasPrefix("request") }
        #expect(lines.count == 2)
        #expect(lines.last?.contains("route=/sessions/{sid}") == true)
        #expect(lines.last?.contains("status=200") == true)
        #expect(lines.last?.contains("method=GET") == true)
        #expect(lines.last?.contains("duration_us=") == true)
        #expect(!harness.logs.all.joined().contains(sid))
        #expect(!harness.logs.all.joined().contains("hunter2"))
    }
}
