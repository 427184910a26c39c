import NIOCore
import NIOHTTP1
import SessionCore

/// The handlers of `/sessions` and `/sessions/{sid}`: validate, call the service, render.
struct SessionHandlers: Sendable {
    let service: SessionService
    let limits: RequestLimits

    /// `POST /sessions`: 201 with the new session, `Location` and `ETag`.
    func create(_ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        switch SessionBody.parse(request, dataRequired: false, maxDataDepth: limits.maxDataDepth) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            let service = self.service
            return service.create(data: body.data, permanent: body.permanent, on: eventLoop).map { session in
                SessionRenderer.response(session, status: .created, now: session.createdAt, headers: ["Location": "/sessions/\(session.id)"])
            }
        }
    }

    /// `GET /sessions/{sid}`: 200 with the session, or 404.
    func read(_ id: SessionID, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        // One clock reading for the liveness check and the ttl, so a live session never shows 0.
        let now = service.now()
        return service.read(id, at: now, on: eventLoop).map { found in
            guard let session = found else { return Self.notFound.response }
            return SessionRenderer.response(session, now: now)
        }
    }

    /// `PUT /sessions/{sid}`: replace data and permanence; 200, or 404 (never creates).
    func replace(_ id: SessionID, _ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        switch SessionBody.parse(request, dataRequired: true, maxDataDepth: limits.maxDataDepth) {
        case let .failure(problem):
            return eventLoop.makeSucceededFuture(problem.response)
        case let .success(body):
            return service.replace(id, data: body.data, permanent: body.permanent, on: eventLoop).map { outcome in
                switch outcome {
                case let .updated(session): return SessionRenderer.response(session, now: session.updatedAt)
                case .notFound: return Self.notFound.response
                }
            }
        }
    }

    /// `DELETE /sessions/{sid}`: 204 whether or not it existed.
    func delete(_ id: SessionID, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        service.delete(id, on: eventLoop).map { _ in Response(status: .noContent) }
    }

    private static let notFound = Problem(.sessionNotFound, detail: "no live session has this id: it never existed, expired, was deleted or rotated")
}
