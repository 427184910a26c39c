import Foundation
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

/// `--max-sessions-per-subject` and `on_limit` over the real pipeline.
@Suite("Per-subject limits over the real pipeline")
struct SubjectLimitHTTPTests {
    @Test func onLimitIsCheckedAndRefusingIs409() throws {
        let harness = try HTTPHarness(maxSessionsPerSubject: 1)
        let first = try harness.send("POST", "/sessions", body: #"{"subject":"u1"}"#)
        #expect(first.status == 201)
        let refused = try harness.send("POST", "/sessions?on_limit=refuse", body: #"{"subject":"u1"}"#)
        #expect(refused.status == 409)
        #expect(refused.problemSlug == "too-many-sessions")
        let minted = "0f8fad5b-d9cb-469f-a165-70867728950e"
        let refusedPut = try harness.send("PUT", "/sessions/\(minted)?on_limit=refuse", body: #"{"data":{},"subject":"u1"}"#, headers: [("If-None-Match", "*")])
        #expect(refusedPut.status == 409 && refusedPut.problemSlug == "too-many-sessions")
        let bad = try harness.send("POST", "/sessions?on_limit=never", body: #"{"subject":"u1"}"#)
        #expect(bad.status == 400 && bad.problemSlug == "invalid-query")
        let sid = try #require(first.field("sid"))
        #expect(try harness.send("GET", "/sessions/\(sid)").status == 200)
        let evicting = try harness.send("POST", "/sessions?on_limit=evict_oldest", body: #"{"subject":"u1"}"#)
        #expect(evicting.status == 201)
        #expect(try harness.send("GET", "/sessions/\(sid)").status == 404)
        // Without a subject, no limit.
        #expect(try harness.send("POST", "/sessions?on_limit=refuse", body: "{}").status == 201)
    }
}
