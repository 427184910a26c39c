import Foundation
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

/// `PUT` with `If-None-Match: *` (create under an app-minted id) and the `lifetime` member.
@Suite("App-minted ids and per-session lifetimes over the real pipeline")
struct AppMintedAndLifetimeTests {
    private let minted = "0f8fad5b-d9cb-469f-a165-70867728950e"

    @Test func putWithIfNoneMatchStarCreatesUnderTheGivenSid() throws {
        let harness = try HTTPHarness()
        let created = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{"a":1},"lifetime":300}"#, headers: [("If-None-Match", "*")])
        #expect(created.status == 201)
        #expect(created.header("Location") == "/sessions/\(minted)")
        #expect(created.header("ETag") == "\"1\"")
        #expect(created.field("sid") == minted)
        #expect(created.field("lifetime") == "300")
        #expect(created.field("ttl") == "300")
        let read = try harness.send("GET", "/sessions/\(minted)")
        #expect(read.status == 200 && read.body == created.body)
    }

    @Test func aSecondCreateUnderATakenSidIs412AndChangesNothing() throws {
        let harness = try HTTPHarness()
        let first = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{"a":1}}"#, headers: [("If-None-Match", "*")])
        let second = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{"b":2},"permanent":true}"#, headers: [("If-None-Match", " * ")])
        #expect(second.status == 412)
        #expect(second.field("type") == "https://sessiond.dev/problems/session-exists")
        #expect(try harness.send("GET", "/sessions/\(minted)").body == first.body)
    }

    @Test func aPutWithoutIfNoneMatchStillNeverCreates() throws {
        let harness = try HTTPHarness()
        let response = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{}}"#)
        #expect(response.status == 404)
        #expect(try harness.send("GET", "/sessions/\(minted)").status == 404)
    }

    @Test(arguments: [
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427",  // version 1
        "0f8fad5b-d9cb-369f-a165-70867728950e",  // version 3
        "0f8fad5b-d9cb-469f-c165-70867728950e",  // variant 110x
        "0f8fad5b-d9cb-469f-7165-70867728950e",  // variant 0xxx
        "00000000-0000-0000-0000-000000000000",
    ])
    func anAppMintedSidMustBeARandomVersion4UUID(sid: String) throws {
        let harness = try HTTPHarness()
        let response = try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{}}"#, headers: [("If-None-Match", "*")])
        #expect(response.status == 400)
        #expect(response.field("type") == "https://sessiond.dev/problems/malformed-sid")
        #expect(try harness.send("GET", "/sessions/\(sid)").status == 404)
    }

    @Test func anUppercaseSidIsMalformedBeforeAnything() throws {
        let harness = try HTTPHarness()
        let response = try harness.send("PUT", "/sessions/\(minted.uppercased())", body: #"{"data":{}}"#, headers: [("If-None-Match", "*")])
        #expect(response.status == 400)
        #expect(response.field("type") == "https://sessiond.dev/problems/malformed-sid")
    }

    @Test(arguments: [[("If-None-Match", #""1""#)], [("If-None-Match", "*, \"1\"")], [("If-None-Match", "W/\"1\"")]])
    func otherFormsOfIfNoneMatchAre400(headers: [(String, String)]) throws {
        let harness = try HTTPHarness()
        let response = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{}}"#, headers: headers)
        #expect(response.status == 400)
        #expect(response.field("type") == "https://sessiond.dev/problems/invalid-if-none-match")
        #expect(try harness.send("GET", "/sessions/\(minted)").status == 404)
    }

    @Test func ifMatchBesideIfNoneMatchStarNeverWrites() throws {
        let harness = try HTTPHarness()
        let absent = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{}}"#, headers: [("If-None-Match", "*"), ("If-Match", "*")])
        #expect(absent.status == 404)
        #expect(try harness.send("GET", "/sessions/\(minted)").status == 404)
        let created = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{"a":1}}"#, headers: [("If-None-Match", "*")])
        let live = try harness.send("PUT", "/sessions/\(minted)", body: #"{"data":{}}"#, headers: [("If-None-Match", "*"), ("If-Match", #""1""#)])
        #expect(live.status == 412)
        #expect(live.field("type") == "https://sessiond.dev/problems/session-exists")
        #expect(try harness.send("GET", "/sessions/\(minted)").body == created.body)
        // A bad body is refused as on any PUT, before the preconditions are looked at.
        let garbled = try harness.send("PUT", "/sessions/\(minted)", body: "\u{1}", headers: [("If-None-Match", "*"), ("If-Match", #""1""#)])
        #expect(garbled.status == 400)
        let noData = try harness.send("PUT", "/sessions/\(minted)", body: #"{"permanent":true}"#, headers: [("If-None-Match", "*"), ("If-Match", #""1""#)])
        #expect(noData.status == 422)
    }

    @Test func ifNoneMatchOnAnotherWriteIs400AndChangesNothing() throws {
        let harness = try HTTPHarness()
        let created = try harness.send("POST", "/sessions", body: #"{"data":{"a":1}}"#)
        let sid = try #require(created.field("sid"))
        let patch = try harness.send("PATCH", "/sessions/\(sid)", body: #"{"data":{"b":2}}"#, contentType: "application/merge-patch+json", headers: [("If-None-Match", "*")])
        let delete = try harness.send("DELETE", "/sessions/\(sid)", headers: [("If-None-Match", "*")])
        let touch = try harness.send("POST", "/sessions/\(sid)/touch", headers: [("If-None-Match", "*")])
        for response in [patch, delete, touch] {
            #expect(response.status == 400)
            #expect(response.field("type") == "https://sessiond.dev/problems/invalid-if-none-match")
        }
        #expect(try harness.send("GET", "/sessions/\(sid)").body == created.body)
    }

    @Test func aCreateMayBeBadInputToo() throws {
        let harness = try HTTPHarness()
        let noData = try harness.send("PUT", "/sessions/\(minted)", body: #"{"permanent":true}"#, headers: [("If-None-Match", "*")])
        #expect(noData.status == 422)
        let query = try harness.send("PUT", "/sessions/\(minted)?x=1", body: #"{"data":{}}"#, headers: [("If-None-Match", "*")])
        #expect(query.status == 400)
        #expect(try harness.send("GET", "/sessions/\(minted)").status == 404)
    }

    @Test func lifetimeIsShownNullWhenTheAppSetNone() throws {
        let harness = try HTTPHarness()
        let created = try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":null}"#)
        #expect(created.status == 201)
        #expect(created.field("lifetime") == "null")
        #expect(created.field("ttl") == "86400")
    }

    @Test func aPatchSetsAndClearsTheLifetime() throws {
        let harness = try HTTPHarness()
        let created = try harness.send("POST", "/sessions", body: #"{"data":{},"permanent":true,"lifetime":600}"#)
        let sid = try #require(created.field("sid"))
        #expect(created.field("ttl") == "600")
        let kept = try harness.send("PATCH", "/sessions/\(sid)", body: #"{"data":{"a":1}}"#, contentType: "application/merge-patch+json")
        #expect(kept.field("lifetime") == "600" && kept.field("ttl") == "600")
        let cleared = try harness.send("PATCH", "/sessions/\(sid)", body: #"{"lifetime":null}"#, contentType: "application/merge-patch+json")
        #expect(cleared.field("lifetime") == "null" && cleared.field("ttl") == "2678400")
        let replaced = try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{},"lifetime":30}"#)
        #expect(replaced.field("lifetime") == "30" && replaced.field("ttl") == "30")
        let restated = try harness.send("PUT", "/sessions/\(sid)", body: #"{"data":{}}"#)
        #expect(restated.field("lifetime") == "null" && restated.field("ttl") == "86400")
    }

    @Test(arguments: ["0", "-5", "1.5", "0.0", "1e-3", "1e30", #""300""#, "true", "[]", "{}"])
    func aLifetimeThatIsNotWholePositiveSecondsIs422(value: String) throws {
        let harness = try HTTPHarness()
        let response = try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":\#(value)}"#)
        #expect(response.status == 422)
        #expect(response.field("type") == "https://sessiond.dev/problems/invalid-body")
        #expect(response.field("detail")?.contains("lifetime") == true)
    }

    @Test(arguments: ["300", "300.0", "3e2", "3.0e+2"])
    func aLifetimeIsAWholeNumberHoweverItIsWritten(value: String) throws {
        let harness = try HTTPHarness()
        let response = try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":\#(value)}"#)
        #expect(response.status == 201)
        #expect(response.field("lifetime") == "300")
    }

    @Test func aLifetimeAboveTheMaximumIs422AndChangesNothing() throws {
        let harness = try HTTPHarness(policy: LifetimePolicy(maxOwn: 3_600_000))
        let created = try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":3600}"#)
        #expect(created.status == 201)
        let sid = try #require(created.field("sid"))
        let longer = try harness.send("PATCH", "/sessions/\(sid)", body: #"{"lifetime":3601}"#, contentType: "application/merge-patch+json")
        #expect(longer.status == 422)
        #expect(longer.field("type") == "https://sessiond.dev/problems/lifetime-too-long")
        #expect(longer.field("detail")?.contains("3600") == true)
        #expect(try harness.send("GET", "/sessions/\(sid)").body == created.body)
        let put = try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":999999999}"#)
        #expect(put.field("type") == "https://sessiond.dev/problems/lifetime-too-long")
    }

    @Test func theDefaultMaximumIsThePermanentLifetime() throws {
        let harness = try HTTPHarness(policy: LifetimePolicy(permanent: 7_200_000))
        #expect(try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":7200}"#).status == 201)
        #expect(try harness.send("POST", "/sessions", body: #"{"data":{},"lifetime":7201}"#).status == 422)
    }
}
