import Foundation
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

/// `POST /sessions/{sid}/rotate` with a grace window and a proposed sid, over the real pipeline.
@Suite("Rotation over the real pipeline")
struct RotationTests {
    private let proposed = "0f8fad5b-d9cb-469f-a165-70867728950e"

    private func created(_ harness: HTTPHarness) throws -> String {
        let response = try harness.send("POST", "/sessions", body: #"{"data":{"cart":[1]}}"#)
        return try #require(response.field("sid")?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    }

    @Test func theOldSidReadsTheFrozenStateAndRefusesWritesWith409() throws {
        let harness = try HTTPHarness(policy: LifetimePolicy(rotationGrace: 10_000))
        let old = try created(harness)
        let rotation = try harness.send("POST", "/sessions/\(old)/rotate?grace=5s", body: "{\"sid\":\"\(proposed)\"}")
        #expect(rotation.status == 201)
        #expect(rotation.header("Location") == "/sessions/\(proposed)")
        #expect(!rotation.body.contains(#""rotated""#))
        let read = try harness.send("GET", "/sessions/\(old)")
        #expect(read.status == 200)
        #expect(read.body.hasSuffix(#","ttl":5,"rotated":true}"#))
        #expect(read.body.contains(#""data":{"cart":[1]}"#) && !read.body.contains(proposed))
        #expect(try harness.send("GET", "/sessions/\(old)?touch=true").body == read.body)
        for (method, path, body) in [
            ("PATCH", "/sessions/\(old)", #"{"data":{"x":1}}"#), ("PUT", "/sessions/\(old)", #"{"data":{}}"#),
            ("POST", "/sessions/\(old)/touch", nil), ("POST", "/sessions/\(old)/rotate", nil), ("DELETE", "/sessions/\(old)", nil),
        ] {
            let contentType = method == "PATCH" ? "application/merge-patch+json" : "application/json"
            let response = try harness.send(method, path, body: body, contentType: contentType)
            #expect(response.status == 409, "\(method) \(path)")
            #expect(response.problemSlug == "rotated", "\(method) \(path)")
        }
        // A retry of the same rotation answers 200 with the session, and changes nothing.
        let retry = try harness.send("POST", "/sessions/\(old)/rotate", body: "{\"sid\":\"\(proposed)\"}")
        #expect(retry.status == 200)
        #expect(retry.header("Content-Location") == "/sessions/\(proposed)")
        #expect(retry.field("version") == "2")
        harness.clock.advance(milliseconds: 5000)
        #expect(try harness.send("GET", "/sessions/\(old)").status == 404)
    }

    @Test func withoutAGraceWindowTheOldSidIsGoneAtOnce() throws {
        let harness = try HTTPHarness(policy: LifetimePolicy(rotationGrace: 10_000))
        let old = try created(harness)
        #expect(try harness.send("POST", "/sessions/\(old)/rotate?grace=0", body: nil).status == 201)
        #expect(try harness.send("GET", "/sessions/\(old)").status == 404)
        #expect(try harness.send("DELETE", "/sessions/\(old)").status == 204)
    }

    @Test func badRotateRequestsAreRefusedAndChangeNothing() throws {
        let harness = try HTTPHarness()
        let old = try created(harness)
        let cases: [(String, String?, String?, Int, String)] = [
            ("?grace=soon", nil, nil, 400, "invalid-query"),
            ("?grace=-1s", nil, nil, 400, "invalid-query"),
            ("?later=1", nil, nil, 400, "invalid-query"),
            ("", #"{"sid":"1B4E28BA-2FA1-41D2-883F-0016D3CCA427"}"#, "application/json", 400, "malformed-sid"),
            ("", #"{"sid":"1b4e28ba-2fa1-11d2-883f-0016d3cca427"}"#, "application/json", 400, "malformed-sid"),
            ("", #"{"sid":42}"#, "application/json", 422, "invalid-body"),
            ("", #"{"data":{}}"#, "application/json", 422, "invalid-body"),
            ("", #"{"sid":"#, "application/json", 400, "invalid-json"),
            ("", #"{"sid":"\#(proposed)"}"#, "text/plain", 415, "unsupported-media-type"),
        ]
        for (query, body, contentType, status, slug) in cases {
            let response = try harness.send("POST", "/sessions/\(old)/rotate\(query)", body: body, contentType: contentType)
            #expect(response.status == status, "\(query) \(body ?? "")")
            #expect(response.problemSlug == slug, "\(query) \(body ?? "")")
        }
        #expect(try harness.send("GET", "/sessions/\(old)").field("version") == "1")
        #expect(try harness.send("GET", "/sessions/\(proposed)").status == 404)
    }

    @Test func aProposedSidOfAnotherLiveSessionIs412() throws {
        let harness = try HTTPHarness()
        let old = try created(harness)
        let other = try created(harness)
        let response = try harness.send("POST", "/sessions/\(old)/rotate", body: "{\"sid\":\"\(other)\"}")
        #expect(response.status == 412)
        #expect(response.problemSlug == "session-exists")
        #expect(try harness.send("GET", "/sessions/\(old)").status == 200)
    }
}
