import NIOHTTP1
import SessionCore

/// Maps method and path to an `Endpoint`: a plain function of the two, with no allocation on
/// the session paths beyond the parsed ids.
public enum Router {
    /// The endpoint for `method` and `path`, with its route template.
    ///
    /// - Returns: the endpoint, or a problem: 404 `not-found` for an unknown path; 400
    ///   `malformed-sid`, `malformed-subject` or `malformed-handle` for a path whose id does not
    ///   parse; 405 `method-not-allowed` with `Allow` for a known path and another method. The
    ///   route is returned in both cases (`.unmatched` when none matched).
    ///
    /// HEAD is routed by the caller as GET; `Allow` lists it wherever GET is allowed.
    public static func route(_ method: HTTPMethod, _ path: Substring) -> (Route, Result<Endpoint, Problem>) {
        guard path.utf8.first == UInt8(ascii: "/") else { return (.unmatched, .failure(notFound)) }
        var rest: Substring? = path.dropFirst()
        let first = nextSegment(&rest)
        let second = nextSegment(&rest)
        let third = nextSegment(&rest)
        let fourth = nextSegment(&rest)
        guard nextSegment(&rest) == nil, let first else { return (.unmatched, .failure(notFound)) }

        switch (Word(first), second, third.map(Word.init), fourth) {
        case (.sessions, nil, nil, nil):
            return (.sessions, method == .POST ? .success(.createSession) : .failure(notAllowed(method, ["POST"])))
        case (.livez, nil, nil, nil):
            return (.livez, method == .GET ? .success(.livez) : .failure(notAllowed(method, ["GET", "HEAD"])))
        case (.readyz, nil, nil, nil):
            return (.readyz, method == .GET ? .success(.readyz) : .failure(notAllowed(method, ["GET", "HEAD"])))
        case (.metrics, nil, nil, nil):
            return (.metrics, method == .GET ? .success(.metrics) : .failure(notAllowed(method, ["GET", "HEAD"])))
        case (.events, nil, nil, nil):
            return (.events, method == .GET ? .success(.events) : .failure(notAllowed(method, ["GET", "HEAD"])))
        case (.openAPIDocument, nil, nil, nil):
            return (.openAPIDocument, method == .GET ? .success(.openAPIDocument) : .failure(notAllowed(method, ["GET", "HEAD"])))
        case let (.sessions, sid?, nil, nil):
            return sessionRoute(method, sid)
        case let (.sessions, sid?, action?, nil) where action == .touch || action == .rotate:
            let route: Route = action == .touch ? .touch : .rotate
            guard method == .POST else { return (route, .failure(notAllowed(method, ["POST"]))) }
            guard let id = SessionID(sid) else { return (route, .failure(malformedSID)) }
            return (route, .success(action == .touch ? .touchSession(id) : .rotateSession(id)))
        case let (.subjects, name?, .sessions?, nil):
            let route = Route.subjectSessions
            guard method == .GET || method == .DELETE else { return (route, .failure(notAllowed(method, ["GET", "HEAD", "DELETE"]))) }
            guard let subject = subject(name) else { return (route, .failure(malformedSubject)) }
            return (route, .success(method == .GET ? .listSubjectSessions(subject) : .revokeSubjectSessions(subject)))
        case let (.subjects, name?, .sessions?, handleText?):
            let route = Route.subjectSession
            guard method == .DELETE else { return (route, .failure(notAllowed(method, ["DELETE"]))) }
            guard let subject = subject(name) else { return (route, .failure(malformedSubject)) }
            guard let handle = SessionHandle(handleText) else { return (route, .failure(malformedHandle)) }
            return (route, .success(.revokeSubjectSession(subject, handle)))
        default:
            return (.unmatched, .failure(notFound))
        }
    }

    private static func sessionRoute(_ method: HTTPMethod, _ sid: Substring) -> (Route, Result<Endpoint, Problem>) {
        let route = Route.session
        switch method {
        case .GET, .PUT, .PATCH, .DELETE: break
        default: return (route, .failure(notAllowed(method, ["GET", "HEAD", "PUT", "PATCH", "DELETE"])))
        }
        guard let id = SessionID(sid) else { return (route, .failure(malformedSID)) }
        switch method {
        case .GET: return (route, .success(.readSession(id)))
        case .PUT: return (route, .success(.replaceSession(id)))
        case .PATCH: return (route, .success(.patchSession(id)))
        default: return (route, .success(.deleteSession(id)))
        }
    }

    /// Takes the next segment off `rest` (up to the next `/`); nil once `rest` is used up. An
    /// empty segment (`//`, or a trailing `/`) comes back as "" and matches no route.
    private static func nextSegment(_ rest: inout Substring?) -> Substring? {
        guard let text = rest else { return nil }
        // By bytes: `/` is ASCII, so its index is a Character boundary of the path too.
        if let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) {
            rest = text[text.utf8.index(after: slash)...]
            return text[..<slash]
        }
        rest = nil
        return text
    }

    /// The fixed words of the API's paths, compared by bytes (a Substring compared with a String
    /// compares Unicode canonical equivalence, which the hot path need not pay for).
    private enum Word: Equatable {
        case sessions, subjects, livez, readyz, metrics, openAPIDocument, touch, rotate, events, other

        init(_ segment: Substring) {
            let bytes = segment.utf8
            func `is`(_ word: StaticString) -> Bool {
                word.withUTF8Buffer { bytes.elementsEqual($0) }
            }
            switch bytes.count {
            case 5: self = `is`("livez") ? .livez : (`is`("touch") ? .touch : .other)
            case 6: self = `is`("readyz") ? .readyz : (`is`("rotate") ? .rotate : (`is`("events") ? .events : .other))
            case 7: self = `is`("metrics") ? .metrics : .other
            case 8: self = `is`("sessions") ? .sessions : (`is`("subjects") ? .subjects : .other)
            case 12: self = `is`("openapi.yaml") ? .openAPIDocument : .other
            default: self = .other
            }
        }
    }

    /// The subject named by a percent-encoded path segment, or nil.
    private static func subject(_ segment: Substring) -> Subject? {
        PercentDecoding.decode(segment).flatMap(Subject.init)
    }

    private static let notFound = Problem(
        .notFound,
        detail: "no resource at this path; the API serves /sessions, /sessions/{sid}, /sessions/{sid}/touch, /sessions/{sid}/rotate, /subjects/{subject}/sessions, /events, /livez, /readyz, /metrics and /openapi.yaml"
    )
    private static let malformedSID = Problem(.malformedSID, detail: "a session id is a lowercase canonical UUID such as 1b4e28ba-2fa1-41d2-883f-0016d3cca427")
    private static let malformedSubject = Problem(.malformedSubject, detail: "a subject is 1 to 256 bytes of UTF-8, percent-encoded in the path")
    private static let malformedHandle = Problem(.malformedHandle, detail: "a session handle is 32 lowercase hex digits, as a subject listing shows it")

    private static func notAllowed(_ method: HTTPMethod, _ allowed: [String]) -> Problem {
        let list = allowed.joined(separator: ", ")
        return Problem(.methodNotAllowed, detail: "\(method.rawValue) is not allowed here; allowed: \(list)", headers: ["Allow": list])
    }
}
