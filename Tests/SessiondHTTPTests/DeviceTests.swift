import Foundation
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

/// The `device` member and `last_seen_at`, over the real pipeline.
@Suite("Device metadata over the real pipeline")
struct DeviceTests {
    @Test func theDeviceIsShownAndListedAndCapped() throws {
        let harness = try HTTPHarness()
        let created = try harness.send("POST", "/sessions", body: #"{"data":{"a":1},"subject":"u1","device":{"ua":"Firefox","ip":"192.0.2.7"}}"#)
        #expect(created.status == 201)
        #expect(created.body.contains(#""device":{"ua":"Firefox","ip":"192.0.2.7"},"ttl":"#))
        #expect(created.body.contains(#""data":{"a":1}"#))
        let sid = try #require(created.field("sid"))
        let listing = try harness.send("GET", "/subjects/u1/sessions")
        #expect(listing.body.contains(#""device":{"ua":"Firefox","ip":"192.0.2.7"}"#) && listing.body.contains(#""last_seen_at":""#))
        // Replaced whole by a PATCH, cleared by null.
        let patched = try harness.send("PATCH", "/sessions/\(sid)", body: #"{"device":{"name":"laptop"}}"#, contentType: "application/merge-patch+json")
        #expect(patched.status == 200 && patched.body.contains(#""device":{"name":"laptop"}"#))
        let cleared = try harness.send("PATCH", "/sessions/\(sid)", body: #"{"device":null}"#, contentType: "application/merge-patch+json")
        #expect(cleared.body.contains(#""device":null"#))
        // Too large, or not an object: 422, nothing changed.
        let large = "{\"device\":{\"ua\":\"" + String(repeating: "x", count: 257) + "\"}}"
        let tooLarge = try harness.send("PATCH", "/sessions/\(sid)", body: large, contentType: "application/merge-patch+json")
        #expect(tooLarge.status == 422 && tooLarge.problemSlug == "device-too-large")
        let notObject = try harness.send("POST", "/sessions", body: #"{"device":"Firefox"}"#)
        #expect(notObject.status == 422 && notObject.problemSlug == "invalid-body")
        let notStrings = try harness.send("POST", "/sessions", body: #"{"device":{"cores":8}}"#)
        #expect(notStrings.status == 422 && notStrings.problemSlug == "invalid-body")
        let manyMembers = "{\"device\":{" + (0..<9).map { "\"k\($0)\":\"v\"" }.joined(separator: ",") + "}}"
        let tooMany = try harness.send("POST", "/sessions", body: manyMembers)
        #expect(tooMany.status == 422 && tooMany.problemSlug == "device-too-large")
        let createTooLarge = try harness.send("POST", "/sessions", body: "{\"subject\":\"u1\"," + large.dropFirst())
        #expect(createTooLarge.status == 422 && createTooLarge.problemSlug == "device-too-large")
        #expect(try harness.send("GET", "/subjects/u1/sessions").body.components(separatedBy: "handle").count == 2)
        #expect(try harness.send("GET", "/sessions/\(sid)").field("version") == "3")
    }
}
