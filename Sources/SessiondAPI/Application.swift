import HTTPTransport
import Logging
import NIOCore
import NIOHTTP1
import SessionCore
import Synchronization

/// The whole API as a function from request to response, independent of sockets: the channel
/// handler feeds it complete requests, tests can call it directly.
public struct Application: Sendable {
    public let limits: RequestLimits
    /// The store's name for the start-up line and `/readyz` ("memory", "redis").
    public let storeName: String
    /// Set when shutdown begins: `/readyz` answers 503 from then on.
    public let lifecycle: ServerLifecycle
    public let metrics: SessiondMetrics
    private let namespaces: [String: NamespaceHandlers]
    private let keys: APIKeys?
    private let metricsNeedKey: Bool
    private let operations: OperationsHandlers
    private let logger: Logger
    /// Where access lines go, when not through `logger`.
    let accessLog: (any AccessLog)?
    /// The same logger, for the access lines written by `answered`.
    var accessLogger: Logger { logger }

    /// The handlers of one namespace's sessions.
    private struct NamespaceHandlers: Sendable {
        let sessions: SessionHandlers
        let subjects: SubjectHandlers
        let events: EventHandlers
    }

    /// - Parameters:
    ///   - services: the session service of each namespace. Without `keys` the service under
    ///     "" serves every request; with `keys`, a request's key picks its namespace.
    ///   - keys: the API keys, or nil to serve without authentication.
    ///   - metricsNeedKey: whether `/metrics` needs a key too (when there are keys).
    ///   - accessLog: where access lines go; nil to write them through `logger` at info level.
    package init(
        services: [String: SessionService], keys: APIKeys?, storeName: String, limits: RequestLimits = .init(),
        metrics: SessiondMetrics = SessiondMetrics(), lifecycle: ServerLifecycle = ServerLifecycle(),
        metricsNeedKey: Bool = true, eventStream: EventStreamSettings = .init(), accessLog: (any AccessLog)? = nil, logger: Logger
    ) {
        self.accessLog = accessLog
        self.limits = limits
        self.storeName = storeName
        self.lifecycle = lifecycle
        self.metrics = metrics
        self.keys = keys
        self.metricsNeedKey = metricsNeedKey
        self.namespaces = services.mapValues { service in
            NamespaceHandlers(
                sessions: SessionHandlers(service: service, limits: limits, metrics: metrics),
                subjects: SubjectHandlers(service: service, metrics: metrics),
                events: EventHandlers(store: service.store, settings: eventStream, metrics: metrics, logger: logger)
            )
        }
        let readinessStore = services.values.first?.store
        self.operations = OperationsHandlers(store: readinessStore, storeName: storeName, lifecycle: lifecycle, metrics: metrics)
        self.logger = logger
    }

    /// For the start-up line: "off", or the namespaces whose keys are required.
    public var authentication: String {
        guard let keys else { return "off" }
        return "keys for " + keys.namespaces.joined(separator: ",")
    }

    /// One open namespace served by `service` (tests, and `sessiond` without keys).
    public init(service: SessionService, storeName: String, limits: RequestLimits = .init(), logger: Logger) {
        self.init(services: ["": service], keys: nil, storeName: storeName, limits: limits, logger: logger)
    }

    /// Routes and answers `request` on `eventLoop`.
    ///
    /// - Returns: the tag (the route, for the access log and metrics, and the endpoint, nil
    ///   when none matched, whose `handle` names the session in the log, never the sid), and
    ///   the response. The future never fails: a store failure becomes 503
    ///   `store-unavailable` with `Retry-After`, anything unexpected 500 `internal-error`
    ///   (logged, without session data).
    package func respond(to request: Request, on eventLoop: any EventLoop) -> (RequestTag, EventLoopFuture<Response>) {
        let (route, match) = Router.route(request.method, request.path)
        let response: EventLoopFuture<Response>
        var matched: Endpoint?
        switch match {
        case let .failure(problem):
            response = eventLoop.makeSucceededFuture(problem.response)
        case let .success(endpoint):
            matched = endpoint
            response = dispatch(endpoint, request, on: eventLoop)
        }
        let logger = self.logger
        return (RequestTag(route: route, endpoint: matched), response.recover { error in Self.response(for: error, route: route, logger: logger) })
    }

    private func dispatch(_ endpoint: Endpoint, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        switch endpoint {
        case .livez: return eventLoop.makeSucceededFuture(operations.livez())
        case .readyz: return operations.readyz(on: eventLoop)
        case .openAPIDocument: return eventLoop.makeSucceededFuture(operations.openAPIDocument())
        case .metrics:
            if metricsNeedKey, keys != nil, case let .failure(problem) = namespace(of: request) {
                return eventLoop.makeSucceededFuture(problem.response)
            }
            return eventLoop.makeSucceededFuture(operations.metricsText())
        default:
            break
        }
        let handlers: NamespaceHandlers
        switch namespace(of: request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(found): handlers = found
        }
        let sessions = handlers.sessions
        let subjects = handlers.subjects
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
        case .events: return handlers.events.stream(request, on: eventLoop)
        case .livez, .readyz, .openAPIDocument, .metrics:
            return eventLoop.makeSucceededFuture(Problem(.internalError, detail: "unrouted endpoint").response)
        }
    }

    /// The handlers of the namespace the request's key opens (or of the open namespace when
    /// there are no keys); else 401 `unauthorized` with `WWW-Authenticate`.
    private func namespace(of request: Request) -> Result<NamespaceHandlers, Problem> {
        guard let keys else {
            guard let open = namespaces[""] else { return .failure(Self.unauthorized(error: false)) }
            return .success(open)
        }
        guard let key = BearerToken.key(in: request.headers) else { return .failure(Self.unauthorized(error: false)) }
        guard let name = keys.namespace(for: key.utf8), let handlers = namespaces[name] else {
            return .failure(Self.unauthorized(error: true))
        }
        return .success(handlers)
    }

    private static func unauthorized(error: Bool) -> Problem {
        if error {
            return Problem(
                .unauthorized, detail: "the API key is not one of sessiond's keys",
                headers: ["WWW-Authenticate": #"Bearer realm="sessiond", error="invalid_token""#]
            )
        }
        return Problem(
            .unauthorized, detail: "this call needs an API key: send Authorization: Bearer <key>",
            headers: ["WWW-Authenticate": #"Bearer realm="sessiond""#]
        )
    }

    /// When a refusal was last logged (ms since the epoch): once per 10 s at most, so that a full
    /// Redis says so at error level without a line per request.
    private static let lastRefusalLog = Atomic<Int64>(0)

    /// The problem detail of a store that refused a command; logs the reason at error level (at
    /// most every 10 s).
    static func refusalDetail(_ error: SessionStoreError, route: Route, logger: Logger) -> String {
        let now = SystemClock().now().millisecondsSinceEpoch
        let last = lastRefusalLog.load(ordering: .relaxed)
        if now - last >= 10_000, lastRefusalLog.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged {
            logger.error("the session store refused a command; nothing was written", metadata: [
                "route": "\(route)", "reason": "\(error.refusal?.rawValue ?? "other")", "error": "\(error.detail)",
            ])
        }
        switch error.refusal {
        case .outOfMemory: return "the session store is out of memory and refuses writes; nothing was written; retry later"
        case .readOnly: return "the session store is a read-only replica right now (a failover is under way?); nothing was written; retry shortly"
        case .noPermission: return "the session store refused the command to sessiond's user; nothing was written (the server log says which)"
        case .other, nil: return "the session store refused the command; nothing was written (the server log says why)"
        }
    }

    /// The one place where failures become HTTP.
    static func response(for error: any Error, route: Route, logger: Logger) -> Response {
        if let problem = error as? Problem { return problem.response }
        if let refused = error as? TooManySessions {
            return Problem(
                .tooManySessions,
                detail: "this subject has \(refused.limit) live sessions, as many as --max-sessions-per-subject allows; nothing was created: end one (log out a device), or create with on_limit=evict_oldest"
            ).response
        }
        if let storeError = error as? SessionStoreError {
            if storeError.code == .full {
                return Problem(.storeFull, detail: "this namespace holds as many sessions as --max-sessions allows; delete some or raise the limit").response
            }
            if storeError.isTransient {
                // Debug only: the pool logs once when the store is lost and once when it is back, and
                // the access log shows every 503; a line per request would flood the log in an outage.
                logger.debug("session store unavailable", metadata: ["route": "\(route)", "error": "\(storeError)"])
                let detail: String
                switch storeError.code {
                case .contended: detail = "the session kept changing while sessiond worked on it; retry shortly"
                case .refused: detail = refusalDetail(storeError, route: route, logger: logger)
                default: detail = "the session store did not answer; retry shortly"
                }
                return Problem(.storeUnavailable, detail: detail, headers: ["Retry-After": "1"]).response
            }
        }
        logger.error("request failed", metadata: ["route": "\(route)", "error": "\(String(reflecting: type(of: error)))"])
        return Problem(.internalError, detail: "the request failed inside sessiond; the log has the details").response
    }
}
