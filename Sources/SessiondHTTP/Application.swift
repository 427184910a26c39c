import Logging
import NIOCore
import NIOHTTP1
import SessionCore

/// The whole API as a function from request to response, independent of sockets: the channel
/// handler feeds it complete requests, tests can call it directly.
public struct Application: Sendable {
    public let limits: RequestLimits
    /// The store's name for the start-up line and `/readyz` ("memory", "redis").
    public let storeName: String
    private let sessions: SessionHandlers
    private let subjects: SubjectHandlers
    private let operations: OperationsHandlers
    private let logger: Logger

    public init(service: SessionService, storeName: String, limits: RequestLimits = .init(), logger: Logger) {
        self.limits = limits
        self.storeName = storeName
        self.sessions = SessionHandlers(service: service, limits: limits)
        self.subjects = SubjectHandlers(service: service)
        self.operations = OperationsHandlers(store: service.store, storeName: storeName)
        self.logger = logger
    }

    /// Routes and answers `request` on `eventLoop`.
    ///
    /// - Returns: the route template (for the access log) and the response. The future never
    ///   fails: a store failure becomes 503 `store-unavailable` with `Retry-After`, anything
    ///   unexpected 500 `internal-error` (logged, without session data).
    public func respond(to request: Request, on eventLoop: any EventLoop) -> (route: String, response: EventLoopFuture<Response>) {
        let (route, match) = Router.route(request.method, request.path)
        let response: EventLoopFuture<Response>
        switch match {
        case let .failure(problem):
            response = eventLoop.makeSucceededFuture(problem.response)
        case let .success(endpoint):
            response = dispatch(endpoint, request, on: eventLoop)
        }
        let logger = self.logger
        return (route, response.recover { error in Self.response(for: error, route: route, logger: logger) })
    }

    private func dispatch(_ endpoint: Endpoint, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        switch endpoint {
        case .createSession: return sessions.create(request, on: eventLoop)
        case let .readSession(id): return sessions.read(id, request, on: eventLoop)
        case let .replaceSession(id): return sessions.replace(id, request, on: eventLoop)
        case let .patchSession(id): return sessions.patch(id, request, on: eventLoop)
        case let .deleteSession(id): return sessions.delete(id, request, on: eventLoop)
        case let .touchSession(id): return sessions.touch(id, request, on: eventLoop)
        case let .rotateSession(id): return sessions.rotate(id, request, on: eventLoop)
        case let .listSubjectSessions(subject): return subjects.list(subject, request, on: eventLoop)
        case let .revokeSubjectSessions(subject): return subjects.revokeAll(subject, request, on: eventLoop)
        case let .revokeSubjectSession(subject, handle): return subjects.revoke(subject, handle, request, on: eventLoop)
        case .livez: return eventLoop.makeSucceededFuture(operations.livez())
        case .readyz: return operations.readyz(on: eventLoop)
        case .openAPIDocument: return eventLoop.makeSucceededFuture(operations.openAPIDocument())
        }
    }

    /// The one place where failures become HTTP.
    static func response(for error: any Error, route: String, logger: Logger) -> Response {
        if let problem = error as? Problem { return problem.response }
        if let storeError = error as? SessionStoreError, storeError.isTransient {
            // Debug only: the pool logs once when the store is lost and once when it is back, and
            // the access log shows every 503; a line per request would flood the log in an outage.
            logger.debug("session store unavailable", metadata: ["route": "\(route)", "error": "\(storeError)"])
            let detail = storeError == .contended("")
                ? "the session kept changing while sessiond worked on it; retry shortly"
                : "the session store did not answer; retry shortly"
            return Problem(.storeUnavailable, detail: detail, headers: ["Retry-After": "1"]).response
        }
        logger.error("request failed", metadata: ["route": "\(route)", "error": "\(String(reflecting: type(of: error)))"])
        return Problem(.internalError, detail: "the request failed inside sessiond; the log has the details").response
    }
}
