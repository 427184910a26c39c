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

    /// `POST /sessions`: 201 with the new session, `Location` and `ETag`.
    func create(_ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        if case let .failure(problem) = QueryParameters.parse(request.query, allowed: []) {
            return eventLoop.makeSucceededFuture(problem.response)
        }
        switch SessionBody.parse(request, dataRequired: false, maxDataDepth: limits.maxDataDepth) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            let created = metrics.sessionsCreated
            return service.create(data: body.data, permanent: body.permanent, subject: body.subject, on: eventLoop).map { session in
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

    /// `PUT /sessions/{sid}`: replace data, permanence and subject; 200, 404 (never creates),
    /// or 412.
    func replace(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.condition(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        switch SessionBody.parse(request, dataRequired: true, maxDataDepth: limits.maxDataDepth) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            let mutation = SessionMutation.replace(data: body.data, permanent: body.permanent, subject: body.subject)
            let now = service.now()
            return service.update(id, mutation, if: condition, at: now, on: eventLoop).map { self.response(for: $0, now: now) }
        }
    }

    /// `PATCH /sessions/{sid}`: merge patch; 200, 404, 412, or 422 `data-too-large`.
    func patch(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.condition(request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        switch PatchBody.parse(request, maxDataDepth: limits.maxDataDepth, maxDataBytes: limits.maxBodyBytes) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(patch):
            let now = service.now()
            return service.update(id, .patch(patch), if: condition, at: now, on: eventLoop).map { self.response(for: $0, now: now) }
        }
    }

    /// `POST /sessions/{sid}/touch`: slide the expiry; 200 with the session, 404, or 412.
    func touch(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.actionCondition(request, action: "touch") {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        let now = service.now()
        return service.update(id, .touch, if: condition, at: now, on: eventLoop).map { self.response(for: $0, now: now) }
    }

    /// `POST /sessions/{sid}/rotate`: 201 with the session under its new sid and `Location`;
    /// the old sid is gone. 404 or 412 otherwise.
    func rotate(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let condition: WriteCondition
        switch Self.actionCondition(request, action: "rotate") {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(value): condition = value
        }
        let metrics = self.metrics
        return service.rotate(id, if: condition, on: eventLoop).map { outcome in
            switch outcome {
            case let .rotated(session):
                metrics.sessionsRotated.increment()
                return SessionRenderer.response(session, status: .created, now: session.updatedAt, headers: ["Location": "/sessions/\(session.id)"])
            case .notFound:
                return Self.notFound.response
            case let .conflict(currentVersion):
                metrics.conflicts.increment()
                return Self.conflict(currentVersion).response
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
            case .removed:
                metrics.sessionsDeleted.increment()
            case .notFound:
                break
            }
            return Response(status: .noContent)
        }
    }

    /// The `If-Match` condition of a write, which takes no query parameters.
    private static func condition(_ request: Request) -> Result<WriteCondition, Problem> {
        if case let .failure(problem) = QueryParameters.parse(request.query, allowed: []) { return .failure(problem) }
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

    private static let notFound = Problem(.sessionNotFound, detail: "no live session has this id: it never existed, expired, was deleted or rotated")
}
