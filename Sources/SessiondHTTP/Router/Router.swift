import NIOHTTP1
import SessionCore

/// Maps method and path to an `Endpoint`: a plain function, no allocation beyond the sid.
public enum Router {
    /// The route template, for logs and metrics: never the sid itself.
    public typealias RouteName = String

    /// The endpoint for `method` and `path`, with its route template.
    ///
    /// - Returns: the endpoint, or a problem: 404 `not-found` for an unknown path, 400
    ///   `malformed-sid` for a session path whose sid is not a canonical UUID, 405
    ///   `method-not-allowed` with `Allow` for a known path and another method. The route
    ///   template is returned in both cases ("-" when no route matched).
    ///
    /// HEAD is routed by the caller as GET; `Allow` lists it wherever GET is allowed.
    public static func route(_ method: HTTPMethod, _ path: Substring) -> (RouteName, Result<Endpoint, Problem>) {
        // "/first" or "/first/second"; anything else is not ours. No allocation on this path.
        guard path.first == "/" else { return ("-", .failure(notFound(path))) }
        let rest = path.dropFirst()
        let slash = rest.firstIndex(of: "/")
        let first = slash.map { rest[..<$0] } ?? rest
        let second = slash.map { rest[rest.index(after: $0)...] }

        switch second {
        case nil:
            switch first {
            case "sessions":
                return ("/sessions", method == .POST ? .success(.createSession) : .failure(notAllowed(method, ["POST"])))
            case "livez":
                return ("/livez", method == .GET ? .success(.livez) : .failure(notAllowed(method, ["GET", "HEAD"])))
            case "readyz":
                return ("/readyz", method == .GET ? .success(.readyz) : .failure(notAllowed(method, ["GET", "HEAD"])))
            case "openapi.yaml":
                return ("/openapi.yaml", method == .GET ? .success(.openAPIDocument) : .failure(notAllowed(method, ["GET", "HEAD"])))
            default:
                return ("-", .failure(notFound(path)))
            }
        case let .some(sid) where first == "sessions" && !sid.contains("/"):
            let route = "/sessions/{sid}"
            switch method {
            case .GET, .PUT, .DELETE: break
            default: return (route, .failure(notAllowed(method, ["GET", "HEAD", "PUT", "DELETE"])))
            }
            guard let id = SessionID(sid) else {
                return (route, .failure(Problem(.malformedSID, detail: "a session id is a lowercase canonical UUID such as 1b4e28ba-2fa1-41d2-883f-0016d3cca427")))
            }
            switch method {
            case .GET: return (route, .success(.readSession(id)))
            case .PUT: return (route, .success(.replaceSession(id)))
            default: return (route, .success(.deleteSession(id)))
            }
        default:
            return ("-", .failure(notFound(path)))
        }
    }

    private static func notFound(_ path: Substring) -> Problem {
        Problem(.notFound, detail: "no resource at this path; the API serves /sessions, /sessions/{sid}, /livez, /readyz and /openapi.yaml")
    }

    private static func notAllowed(_ method: HTTPMethod, _ allowed: [String]) -> Problem {
        let list = allowed.joined(separator: ", ")
        return Problem(.methodNotAllowed, detail: "\(method.rawValue) is not allowed here; allowed: \(list)", headers: ["Allow": list])
    }
}
