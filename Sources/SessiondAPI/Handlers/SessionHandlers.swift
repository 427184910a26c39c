import HTTPTransport
import NIOCore
import NIOHTTP1
import SessionCore

/// The handlers of `/sessions`, `/sessions/{sid}` and its touch and rotate actions: validate,
/// call the service, render.
struct SessionHandlers: Sendable {
    let service: SessionService
    let limits: RequestLimits
    let metrics: SessiondMetrics

    /// `POST /sessions[?on_limit=evict_oldest|refuse]`: 201 with the new session, `Location` and
    /// `ETag`; 409 `too-many-sessions` when the subject is at its limit and `on_limit=refuse`.
    func create(_ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let onLimit: LimitPolicy
        switch Self.limitPolicy(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): onLimit = value
        }
        switch SessionBody.parse(request, dataRequired: false, maxDataDepth: limits.maxDataDepth, maxLifetime: service.policy.maxOwn) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            let created = metrics.sessionsCreated
            let creation = service.create(
                data: body.data, permanent: body.permanent, subject: body.subject, lifetime: body.lifetime, device: body.device,
                onLimit: onLimit, on: eventLoop
            )
            return creation.map { session in
                created.increment()
                return SessionRenderer.response(session, status: .created, now: session.createdAt, headers: ["Location": "/sessions/\(session.id)"])
            }
        }
    }

    /// `GET /sessions/{sid}[?touch=true]`: 200 with the session, or 404; with `touch=true` the
    /// expiry slides in the same step.
    func read(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let touch: Bool
        switch QueryParameters.parse(request.query, allowed: ["touch"]) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(values):
            switch values["touch"] {
            case nil, "false": touch = false
            case "true": touch = true
            default:
                return eventLoop.makeSucceededFuture(Problem(.invalidQuery, detail: "touch must be true or false").response)
            }
        }
        // One clock reading for the liveness check and the ttl, so a live session never shows 0.
        let now = service.now()
        return service.read(id, at: now, touch: touch, on: eventLoop).map { found in
            guard let session = found else { return Self.notFound.response }
            return SessionRenderer.response(session, now: now)
        }
    }


    /// `PUT /sessions/{sid}`: replace data, permanence, subject and lifetime; 200, 404 (never
    /// creates), or 412. With `If-None-Match: *`, create under this sid instead (see
    /// `createUnder`).
    func replace(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        switch IfNoneMatch.createOnly(request.headers) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case .success(true) where request.headers["If-Match"].isEmpty: return createUnder(id, request, on: eventLoop)
        case .success(true): return neverBoth(id, request, on: eventLoop)
        case .success(false): break
        }
        let condition: WriteCondition
        switch Self.condition(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        switch SessionBody.parse(request, dataRequired: true, maxDataDepth: limits.maxDataDepth, maxLifetime: service.policy.maxOwn) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            let mutation = SessionMutation.replace(
                data: body.data, permanent: body.permanent, subject: body.subject, lifetime: body.lifetime, device: body.device
            )
            let now = service.now()
            return service.update(id, mutation, if: condition, at: now, on: eventLoop).map { self.response(for: $0, now: now) }
        }
    }

    /// `PUT /sessions/{sid}` with `If-None-Match: *`: create the session under the sid the app
    /// minted; 201 with `Location` and `ETag`, 412 `session-exists` (nothing changed) when a
    /// live session has it, 400 `malformed-sid` unless it is a random (version 4) UUID.
    private func createUnder(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let onLimit: LimitPolicy
        switch Self.limitPolicy(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): onLimit = value
        }
        guard id.isRandomVersion4 else { return eventLoop.makeSucceededFuture(Self.notVersion4.response) }
        switch SessionBody.parse(request, dataRequired: true, maxDataDepth: limits.maxDataDepth, maxLifetime: service.policy.maxOwn) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            let created = metrics.sessionsCreated
            let creation = service.create(
                id: id, data: body.data, permanent: body.permanent, subject: body.subject, lifetime: body.lifetime, device: body.device,
                onLimit: onLimit,
                on: eventLoop
            )
            return creation.map { outcome in
                switch outcome {
                case let .created(session):
                    created.increment()
                    return SessionRenderer.response(session, status: .created, now: session.createdAt, headers: ["Location": "/sessions/\(session.id)"])
                case .idTaken:
                    return Self.exists.response
                }
            }
        }
    }

    /// `PUT` with both `If-Match` and `If-None-Match: *`, which can never both hold (RFC 9110
    /// §13.2.2): nothing is written. 404 when no live session has the sid (as `If-Match` on an
    /// absent session answers), else 412 `session-exists` (`If-None-Match: *` fails). A bad
    /// `If-Match`, `on_limit` or body is refused first, as on any PUT.
    private func neverBoth(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        if case let .failure(problem) = Self.condition(request) { return eventLoop.makeSucceededFuture(problem.response) }
        if case let .failure(problem) = Self.limitPolicy(request) { return eventLoop.makeSucceededFuture(problem.response) }
        let body = SessionBody.parse(request, dataRequired: true, maxDataDepth: limits.maxDataDepth, maxLifetime: service.policy.maxOwn)
        if case let .failure(problem) = body { return eventLoop.makeSucceededFuture(problem.response) }
        return service.read(id, at: service.now(), on: eventLoop).map { found in
            found == nil ? Self.notFound.response : Self.exists.response
        }
    }

    /// `PATCH /sessions/{sid}`: merge patch; 200, 404, 412, or 422 `data-too-large`.
    func patch(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.condition(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        switch PatchBody.parse(request, maxDataDepth: limits.maxDataDepth, maxDataBytes: limits.maxBodyBytes, maxLifetime: service.policy.maxOwn) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(patch):
            let now = service.now()
            return service.update(id, .patch(patch), if: condition, at: now, on: eventLoop).map { self.response(for: $0, now: now) }
        }
    }

    /// `POST /sessions/{sid}/touch`: slide the expiry; 200 with the session, 404, 412, or 409
    /// `rotated` through a sid in its grace window.
    func touch(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.actionCondition(request, action: "touch") {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        let now = service.now()
        return service.update(id, .touch, if: condition, at: now, on: eventLoop).map { self.response(for: $0, now: now) }
    }

    /// `POST /sessions/{sid}/rotate[?grace=5s]`, with an optional body `{"sid": "<uuid4>"}`:
    /// 201 with the session under its new sid and `Location`; the old sid is gone, or read-only
    /// for the grace window. 200 with the session when a rotation to that same proposed sid had
    /// completed (a retry). 404, 409 `rotated` (the sid was rotated to another and is
    /// read-only), 412 (`If-Match`, or `session-exists` for a proposed sid that is taken).
    func rotate(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let rotateRequest: RotateRequest
        switch RotateRequest.parse(request, maxDataDepth: limits.maxDataDepth) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): rotateRequest = value
        }
        if let problem = IfNoneMatch.refused(request.headers) { return eventLoop.makeSucceededFuture(problem.response) }
        let condition: WriteCondition
        switch IfMatch.condition(request.headers) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        let metrics = self.metrics
        let rotation = service.rotate(id, if: condition, to: rotateRequest.sid, grace: rotateRequest.grace, on: eventLoop)
        return rotation.map { outcome in
            switch outcome {
            case let .rotated(session):
                metrics.sessionsRotated.increment()
                return SessionRenderer.response(session, status: .created, now: session.updatedAt, headers: ["Location": "/sessions/\(session.id)"])
            case let .alreadyRotated(session):
                return SessionRenderer.response(session, now: self.service.now(), headers: ["Content-Location": "/sessions/\(session.id)"])
            case .notFound:
                return Self.notFound.response
            case let .conflict(currentVersion):
                metrics.conflicts.increment()
                return Self.conflict(currentVersion).response
            case .oldRotated:
                return Self.rotated.response
            case .idTaken:
                return Problem(
                    .sessionExists,
                    detail: "another live session has the proposed sid; nothing was changed: mint a new one (a random UUID) and rotate again"
                ).response
            }
        }
    }

    /// `DELETE /sessions/{sid}`: 204 whether or not it existed; 412 when `If-Match` names
    /// another version of a live session (which then stays).
    func delete(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.condition(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        let metrics = self.metrics
        return service.delete(id, if: condition, on: eventLoop).map { outcome in
            switch outcome {
            case let .conflict(currentVersion):
                metrics.conflicts.increment()
                return Self.conflict(currentVersion).response
            case .rotated:
                return Self.rotated.response
            case .removed:
                metrics.sessionsDeleted.increment()
            case .notFound:
                break
            }
            return Response(status: .noContent)
        }
    }

    /// The `on_limit` query parameter of a create (the only one it takes): `evict_oldest` (the
    /// default) or `refuse`; else 400 `invalid-query`.
    private static func limitPolicy(_ request: Request) -> Result<LimitPolicy, Problem> {
        switch QueryParameters.parse(request.query, allowed: ["on_limit"]) {
        case let .failure(problem):
            return .failure(problem)
        case let .success(values):
            guard let text = values["on_limit"] else { return .success(.evictOldest) }
            guard let policy = LimitPolicy(rawValue: text) else {
                return .failure(Problem(.invalidQuery, detail: "on_limit must be evict_oldest or refuse"))
            }
            return .success(policy)
        }
    }

    /// The `If-Match` condition of a write, which takes no query parameters (but a PUT's `on_limit`), and no
    /// `If-None-Match` but PUT's (which `replace` has taken care of).
    private static func condition(_ request: Request) -> Result<WriteCondition, Problem> {
        if request.method == .PUT {
            // A PUT takes `on_limit`, which applies when it creates (`If-None-Match: *`).
            if case let .failure(problem) = limitPolicy(request) { return .failure(problem) }
        } else if case let .failure(problem) = QueryParameters.parse(request.query, allowed: []) {
            return .failure(problem)
        }
        if request.method != .PUT, let problem = IfNoneMatch.refused(request.headers) { return .failure(problem) }
        return IfMatch.condition(request.headers)
    }

    /// The `If-Match` condition of a touch or rotate, whose request has no body.
    private static func actionCondition(_ request: Request, action: String) -> Result<WriteCondition, Problem> {
        guard request.body.readableBytes == 0 else {
            return .failure(Problem(.invalidBody, detail: "\(action) takes no body; send the request without content"))
        }
        return condition(request)
    }

    /// The answer to an update done at `now`.
    private func response(for outcome: UpdateOutcome, now: Timestamp) -> Response {
        switch outcome {
        case let .updated(session): return SessionRenderer.response(session, now: now)
        case .notFound: return Self.notFound.response
        case let .conflict(currentVersion):
            metrics.conflicts.increment()
            return Self.conflict(currentVersion).response
        case .dataTooLarge:
            return Problem(.dataTooLarge, detail: "merged with this patch, data would exceed the limit of the body size; nothing was changed").response
        case .rotated:
            return Self.rotated.response
        case .pending:
            // The service resolves pending copies; one still pending is not served.
            return Self.notFound.response
        }
    }

    /// The 412 of a conditional write that found the session at `currentVersion`.
    private static func conflict(_ currentVersion: UInt64) -> Problem {
        Problem(
            .preconditionFailed,
            detail: "the session is at version \(currentVersion), not at a version If-Match names; nothing was changed: read it again and retry",
            headers: ["ETag": SessionRenderer.etag(currentVersion)], currentVersion: currentVersion
        )
    }

    private static let exists = Problem(
        .sessionExists,
        detail: "a live session has this id; nothing was changed: mint a new id (a random UUID) and create again"
    )

    private static let notVersion4 = Problem(
        .malformedSID,
        detail: "a session created under an id of the app's needs a random (version 4) UUID in lowercase canonical form, such as 1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    )

    /// The 409 of a write, touch, rotate or delete through a sid that was rotated and is in its
    /// grace window.
    private static let rotated = Problem(
        .rotated,
        detail: "this sid was rotated to a new one and only reads the session as it was then, until its grace window ends; nothing was changed: keep the new sid the rotation gave (do not start a new session)"
    )

    private static let notFound = Problem(.sessionNotFound, detail: "no live session has this id: it never existed, expired, was deleted or rotated")
}
