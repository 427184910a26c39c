import HTTPTransport
import NIOCore
import NIOHTTP1
import SessionCore

/// The handlers of `/subjects/{subject}/sessions[/{handle}]`: list and revoke one subject's
/// sessions.
struct SubjectHandlers: Sendable {
    let service: SessionService
    let metrics: SessiondMetrics

    /// `GET /subjects/{subject}/sessions`: 200 with the live sessions, oldest first.
    func list(_ subject: Subject, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        if case let .failure(problem) = QueryParameters.parse(request.query, allowed: []) {
            return eventLoop.makeSucceededFuture(problem.response)
        }
        let service = self.service
        return service.sessions(of: subject, on: eventLoop).map { sessions in
            .json(.ok, SubjectRenderer.listing(subject, sessions, now: service.now()))
        }
    }

    /// `DELETE /subjects/{subject}/sessions[?except=<handle>]`: 200 with how many were revoked.
    func revokeAll(_ subject: Subject, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let kept: SessionHandle?
        switch QueryParameters.parse(request.query, allowed: ["except"]) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(values):
            if let text = values["except"] {
                guard let handle = SessionHandle(text) else {
                    return eventLoop.makeSucceededFuture(
                        Problem(.malformedHandle, detail: "except must be a session handle: 32 lowercase hex digits").response
                    )
                }
                kept = handle
            } else {
                kept = nil
            }
        }
        let deleted = metrics.sessionsDeleted
        return service.revokeAll(of: subject, except: kept, on: eventLoop).map { count in
            deleted.increment(by: Int64(count))
            return .json(.ok, SubjectRenderer.revoked(subject, count: count))
        }
    }

    /// `DELETE /subjects/{subject}/sessions/{handle}`: 204 whether or not it existed.
    func revoke(_ subject: Subject, _ handle: SessionHandle, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        if case let .failure(problem) = QueryParameters.parse(request.query, allowed: []) {
            return eventLoop.makeSucceededFuture(problem.response)
        }
        let deleted = metrics.sessionsDeleted
        return service.revoke(handle, of: subject, on: eventLoop).map { removed in
            if removed { deleted.increment() }
            return Response(status: .noContent)
        }
    }
}
