import HTTPTransport
import Logging
import NIOCore
import NIOHTTP1
import SessionCore

/// How `GET /events` streams (`--event-*` settings).
public struct EventStreamSettings: Sendable {
    /// How often a consumer's stream asks the store for new events.
    public var pollInterval: TimeAmount
    /// How often a quiet stream sends a comment, so that proxies keep it open.
    public var heartbeat: TimeAmount
    /// How long a consumer may leave what was sent unread (the connection not writable)
    /// before it is cut off.
    public var consumerTimeout: TimeAmount
    /// The most events one store read takes.
    public var pageSize: Int

    public init(
        pollInterval: TimeAmount = .milliseconds(100), heartbeat: TimeAmount = .seconds(15), consumerTimeout: TimeAmount = .seconds(10),
        pageSize: Int = 256
    ) {
        self.pollInterval = pollInterval
        self.heartbeat = heartbeat
        self.consumerTimeout = consumerTimeout
        self.pageSize = pageSize
    }
}

/// The handler of `GET /events`: one namespace's lifecycle events as Server-Sent Events.
struct EventHandlers: Sendable {
    let store: any SessionStore
    let settings: EventStreamSettings
    let metrics: SessiondMetrics
    let logger: Logger

    /// `GET /events[?after=<id>]` (or `Last-Event-ID: <id>`, which wins): 200
    /// `text/event-stream` with the events after that ID, then each new one as it comes;
    /// without an ID, from now. 400 `malformed-event-id`; 501 `events-off` when the store
    /// records none; 503 when the store cannot answer the first read.
    func stream(_ request: Request, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let after: EventID?
        switch Self.position(of: request) {
        case let .failure(problem): return eventLoop.makeSucceededFuture(problem.response)
        case let .success(position): after = position
        }
        guard store.recordsEvents else {
            return eventLoop.makeSucceededFuture(Problem(
                .eventsOff,
                detail: "this sessiond records no lifecycle events: start it with --event-history N (N > 0); on Redis Cluster events are not available"
            ).response)
        }
        let store = self.store
        let settings = self.settings
        let metrics = self.metrics
        let logger = self.logger
        // The first read answers before the stream starts, so that a store that is down gets a
        // 503 rather than a stream that says nothing.
        return store.events(after: after, limit: settings.pageSize, on: eventLoop).map { first in
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
            headers.add(name: "Cache-Control", value: "no-store")
            // Tells nginx not to buffer the stream.
            headers.add(name: "X-Accel-Buffering", value: "no")
            let stream = EventStream(asked: after, first: first, store: store, settings: settings, metrics: metrics, logger: logger)
            return Response(status: .ok, headers: headers, stream: stream)
        }
    }

    /// Where the consumer resumes: `Last-Event-ID`, else `?after=`, else nil (from now).
    static func position(of request: Request) -> Result<EventID?, Problem> {
        let after: String?
        switch QueryParameters.parse(request.query, allowed: ["after"]) {
        case let .failure(problem): return .failure(problem)
        case let .success(values): after = values["after"]
        }
        let header = request.headers["Last-Event-ID"]
        guard header.count <= 1 else {
            return .failure(Problem(.malformedEventID, detail: "send one Last-Event-ID header"))
        }
        guard let text = header.first ?? after else { return .success(nil) }
        let trimmed = text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        guard let id = EventID(String(trimmed)) else {
            return .failure(Problem(
                .malformedEventID,
                detail: "an event ID is <milliseconds>-<sequence> as an event's id line gives it (0 for the whole history kept)"
            ))
        }
        return .success(id)
    }
}
