import NIOHTTP1
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

@Suite("If-Match and query parsing")
struct ConditionalRequestTests {
    private func condition(_ values: [String]) -> Result<WriteCondition, Problem> {
        var headers = HTTPHeaders()
        for value in values { headers.add(name: "If-Match", value: value) }
        return IfMatch.condition(headers)
    }

    @Test func validIfMatchValues() throws {
        #expect(try condition([]).get() == .always)
        #expect(try condition(["*"]).get() == .always)
        #expect(try condition([" * "]).get() == .always)
        #expect(try condition([#""3""#]).get() == .versions([3]))
        #expect(try condition([#""3", "4""#, #""9""#]).get() == .versions([3, 4, 9]))
        // Weak tags and tags that are not our version numbers match nothing (strong comparison).
        #expect(try condition([#"W/"3""#]).get() == .versions([]))
        #expect(try condition([#""03", "x", "3.0""#]).get() == .versions([]))
        #expect(try condition([#"W/"3", "5""#]).get() == .versions([5]))
    }

    @Test(arguments: ["abc", "3", #""3"#, #"3""#, "*, \"3\"", "", ",", #""a b""#, #"w/"3""#])
    func malformedIfMatchIs400(value: String) throws {
        guard case let .failure(problem) = condition([value]) else {
            Issue.record("accepted \(value)")
            return
        }
        #expect(problem.type == .invalidIfMatch)
    }

    @Test func queryParameters() throws {
        #expect(try QueryParameters.parse(nil, allowed: ["touch"]).get() == [:])
        #expect(try QueryParameters.parse("touch=true", allowed: ["touch"]).get() == ["touch": "true"])
        #expect(try QueryParameters.parse("except=a%2Fb+c", allowed: ["except"]).get() == ["except": "a/b c"])
        for (query, allowed) in [("tuch=true", ["touch"]), ("touch=true&touch=false", ["touch"]), ("touch=%zz", ["touch"]), ("x", [])] {
            guard case let .failure(problem) = QueryParameters.parse(Substring(query), allowed: Set(allowed)) else {
                Issue.record("accepted \(query)")
                continue
            }
            #expect(problem.type == .invalidQuery)
        }
    }

    @Test func queryIsSplitAtItsBytesNotAtCharacters() throws {
        // A combining mark after `&`, `=` or `+` makes one Character with it; the separators must
        // still separate (found by fuzz/FuzzQuery: `touch=true&\u{347}x` read as touch = "true&\u{347}x").
        #expect(try QueryParameters.parse("except=a+\u{301}b", allowed: ["except"]).get() == ["except": "a \u{301}b"])
        #expect(try QueryParameters.parse("touch=\u{301}x", allowed: ["touch"]).get() == ["touch": "\u{301}x"])
        guard case let .failure(problem) = QueryParameters.parse("touch=true&\u{347}x", allowed: ["touch"]) else {
            Issue.record("a parameter after & and a combining mark was not seen")
            return
        }
        #expect(problem.type == .invalidQuery)
        #expect(problem.detail.contains("no query parameter of that name"))
    }

    @Test func subjectsArePercentDecodedInPaths() throws {
        let (route, result) = Router.route(.GET, "/subjects/user%2F42%20%C3%A9/sessions")
        #expect(route == .subjectSessions)
        #expect(try result.get() == .listSubjectSessions(try #require(Subject("user/42 é"))))
        for path in ["/subjects/%zz/sessions", "/subjects/%FF/sessions", "/subjects//sessions", "/subjects/\(String(repeating: "a", count: 257))/sessions"] {
            guard case let .failure(problem) = Router.route(.GET, Substring(path)).1 else {
                Issue.record("accepted \(path)")
                continue
            }
            #expect(problem.type == .malformedSubject, "\(path)")
        }
        guard case let .failure(problem) = Router.route(.DELETE, "/subjects/a/sessions/ABCDEF0123456789abcdef0123456789").1 else {
            Issue.record("accepted an uppercase handle")
            return
        }
        #expect(problem.type == .malformedHandle)
    }

    @Test func subjectsAreTheirBytes() throws {
        // As Redis compares them: a precomposed é and e + combining acute are two subjects.
        #expect(Subject("\u{e9}") != Subject("e\u{301}"))
        #expect(Set([Subject("\u{e9}"), Subject("e\u{301}")]).count == 2)
        #expect(Subject("user-1") == Subject("user-1"))
    }

    @Test func handlesAreAOneWayFunctionOfTheSid() throws {
        let sid = try #require(SessionID("1b4e28ba-2fa1-41d2-883f-0016d3cca427"))
        // sha256(b"sessiond-handle-v1:1b4e28ba-2fa1-41d2-883f-0016d3cca427").hexdigest()[:32]
        #expect(SessionHandle(sid).description == "881f21ebca912d93806c9599655019cd")
        #expect(SessionHandle(SessionHandle(sid).description) == SessionHandle(sid))
    }
}
