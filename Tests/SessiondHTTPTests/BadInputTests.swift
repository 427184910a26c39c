import Foundation
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

@Suite("Bad input gets a specific problem and stores nothing")
struct BadInputTests {
    /// A session to aim PUTs at, and its body before any bad request.
    private func seeded(_ harness: HTTPHarness) throws -> (String, String) {
        let created = try harness.send("POST", "/sessions", body: #"{"data":{"keep":1}}"#)
        let sid = try #require(created.field("sid"))
        return (sid, try harness.send("GET", "/sessions/\(sid)").body)
    }

    static let badBodies: [(String, Int, String)] = [
        ("{", 400, "invalid-json"),
        (#"{"data":{}} trailing"#, 400, "invalid-json"),
        (#"{"data":{"s":"\ud800"}}"#, 400, "invalid-json"),
        (#"{"data":{"a":1,"a":2}}"#, 400, "duplicate-key"),
        (#"{"data":{},"data":{}}"#, 400, "duplicate-key"),
        (#"[1,2]"#, 422, "invalid-body"),
        (#""text""#, 422, "invalid-body"),
        (#"{"data":[1]}"#, 422, "invalid-body"),
        (#"{"data":"x"}"#, 422, "invalid-body"),
        (#"{"data":null}"#, 422, "invalid-body"),
        (#"{"data":{},"permanent":"yes"}"#, 422, "invalid-body"),
        (#"{"data":{},"permanent":null}"#, 422, "invalid-body"),
        (#"{"data":{},"sid":"x"}"#, 422, "invalid-body"),
        (#"{"data":{},"Data":{}}"#, 422, "invalid-body"),
        (#"{"data":{"n":18446744073709551616}}"#, 422, "unsupported-value"),
        (#"{"data":{"n":1e400}}"#, 422, "unsupported-value"),
        (#"{"data":{"a\u0000":1}}"#, 422, "unsupported-value"),
    ]

    @Test(arguments: badBodies)
    func badCreateBodies(body: String, status: Int, slug: String) throws {
        let harness = try HTTPHarness()
        let response = try harness.send("POST", "/sessions", body: body)
        #expect(response.status == status)
        #expect(response.problemSlug == slug)
        #expect(response.header("Location") == nil)
        #expect((harness.store as? MemoryStore)?.storedCount == 0)
    }

    @Test(arguments: badBodies + [("{}", 422, "invalid-body"), (#"{"permanent":true}"#, 422, "invalid-body")])
    func badReplaceBodiesLeaveTheSessionUnchanged(body: String, status: Int, slug: String) throws {
        let harness = try HTTPHarness()
        let (sid, before) = try seeded(harness)
        let response = try harness.send("PUT", "/sessions/\(sid)", body: body)
        #expect(response.status == status)
        #expect(response.problemSlug == slug)
        #expect(try harness.send("GET", "/sessions/\(sid)").body == before)
    }

    @Test func invalidUTF8() throws {
        let harness = try HTTPHarness()
        let bytes = Array(#"{"data":{"s":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        let response = try harness.send("POST", "/sessions", bodyBytes: bytes)
        #expect(response.status == 400)
        #expect(response.problemSlug == "invalid-utf8")
    }

    @Test func nestingDeeperThanTheLimit() throws {
        let harness = try HTTPHarness(limits: RequestLimits(maxBodyBytes: 65_536, maxDataDepth: 3))
        let ok = try harness.send("POST", "/sessions", body: #"{"data":{"a":{"b":[]}}}"#)
        #expect(ok.status == 201)
        let deep = try harness.send("POST", "/sessions", body: #"{"data":{"a":{"b":[[]]}}}"#)
        #expect(deep.status == 400)
        #expect(deep.problemSlug == "too-deep")
    }

    @Test func bodyTooLargeByContentLength() throws {
        let harness = try HTTPHarness(limits: RequestLimits(maxBodyBytes: 100, maxDataDepth: 32))
        let body = #"{"data":{"s":""# + String(repeating: "x", count: 200) + #""}}"#
        let response = try harness.send("POST", "/sessions", body: body)
        #expect(response.status == 413)
        #expect(response.problemSlug == "body-too-large")
        #expect(response.header("Connection") == "close")
        #expect((harness.store as? MemoryStore)?.storedCount == 0)
    }

    @Test func bodyTooLargeWhenChunked() throws {
        let harness = try HTTPHarness(limits: RequestLimits(maxBodyBytes: 100, maxDataDepth: 32))
        let chunk = String(repeating: "x", count: 80)
        let raw = "POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "50\r\n\(chunk)\r\n50\r\n\(chunk)\r\n0\r\n\r\n"
        let responses = try harness.exchange(Array(raw.utf8))
        #expect(responses.count == 1)
        #expect(responses.first?.status == 413)
    }

    @Test func aBodyJustUnderTheLimitIsAccepted() throws {
        let harness = try HTTPHarness(limits: RequestLimits(maxBodyBytes: 100, maxDataDepth: 32))
        let body = #"{"data":{"s":""# + String(repeating: "x", count: 100 - 17) + #""}}"#
        #expect(body.utf8.count == 100)
        #expect(try harness.send("POST", "/sessions", body: body).status == 201)
    }

    @Test(arguments: [
        ("text/plain", 415), ("application/x-www-form-urlencoded", 415), ("application/json; charset=latin1", 415),
        ("application/merge-patch+json", 415), ("Application/JSON; charset=UTF-8", 201), ("application/json;charset=\"utf-8\"", 201),
    ])
    func mediaTypes(contentType: String, status: Int) throws {
        let harness = try HTTPHarness()
        let response = try harness.send("POST", "/sessions", body: #"{"data":{}}"#, contentType: contentType)
        #expect(response.status == status)
        if status == 415 { #expect(response.problemSlug == "unsupported-media-type") }
    }

    @Test func aBodyWithoutContentTypeIs415() throws {
        let harness = try HTTPHarness()
        let response = try harness.send("POST", "/sessions", body: #"{"data":{}}"#, contentType: nil)
        #expect(response.status == 415)
        let (sid, before) = try seeded(harness)
        #expect(try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{}}"#, contentType: nil).status == 415)
        #expect(try harness.send("GET", "/sessions/\(sid)").body == before)
    }

    @Test(arguments: [
        "/sessions/not-a-uuid", "/sessions/1B4E28BA-2FA1-41D2-883F-0016D3CCA427", "/sessions/",
        "/sessions/%31b4e28ba-2fa1-41d2-883f-0016d3cca427",
    ])
    func malformedSids(path: String) throws {
        let harness = try HTTPHarness()
        for method in ["GET", "DELETE"] {
            let response = try harness.send(method, path)
            #expect(response.status == 400)
            #expect(response.problemSlug == "malformed-sid")
        }
    }

    @Test(arguments: ["/", "/session", "/sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427/x", "/livez/", "//sessions"])
    func unknownPaths(path: String) throws {
        let response = try HTTPHarness().send("GET", path)
        #expect(response.status == 404)
        #expect(response.problemSlug == "not-found")
    }

    @Test(arguments: [
        ("GET", "/sessions", "POST"), ("DELETE", "/sessions", "POST"),
        ("POST", "/sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427", "GET, HEAD, PUT, PATCH, DELETE"),
        ("GET", "/sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427/touch", "POST"),
        ("DELETE", "/sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427/rotate", "POST"),
        ("PUT", "/subjects/user-1/sessions", "GET, HEAD, DELETE"),
        ("GET", "/subjects/user-1/sessions/0123456789abcdef0123456789abcdef", "DELETE"),
        ("POST", "/livez", "GET, HEAD"), ("PUT", "/readyz", "GET, HEAD"), ("DELETE", "/openapi.yaml", "GET, HEAD"),
    ])
    func wrongMethods(method: String, path: String, allow: String) throws {
        let response = try HTTPHarness().send(method, path)
        #expect(response.status == 405)
        #expect(response.problemSlug == "method-not-allowed")
        #expect(response.header("Allow") == allow)
    }

    @Test func malformedHTTPGets400AndClose() throws {
        let harness = try HTTPHarness()
        let responses = try harness.exchange(Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(responses.first?.status == 400)
    }
}
