import HTTPTransport
import Logging
import NIOCore
import SessionCore

/// One consumer's `GET /events` stream, on its connection's event loop: it reads the store's
/// history page by page after the last event it sent, and writes each event as Server-Sent
/// Events. It pulls: nothing is read from the store while the client has not taken what was
/// sent, so a slow consumer costs no memory beyond the connection's buffer; one that stays
/// behind for `consumerTimeout` is cut off (and may resume with `Last-Event-ID`).
final class EventStream: ResponseStream, Sendable {
    private let asked: EventID?
    private let first: EventPage
    private let store: any SessionStore
    private let settings: EventStreamSettings
    private let metrics: SessiondMetrics
    private let logger: Logger

    /// - Parameters:
    ///   - asked: the position the consumer asked for (nil: from now).
    ///   - first: the store's first page after it.
    init(asked: EventID?, first: EventPage, store: any SessionStore, settings: EventStreamSettings, metrics: SessiondMetrics, logger: Logger) {
        self.asked = asked
        self.first = first
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    func start(_ writer: ResponseStreamWriter) {
        let pump = EventPump(writer: writer, store: store, settings: settings, metrics: metrics, logger: logger)
        pump.begin(after: asked, with: first)
    }
}

/// The loop-bound state of one stream: its position, its timers.
private final class EventPump {
    private let writer: ResponseStreamWriter
    private let store: any SessionStore
    private let settings: EventStreamSettings
    private let metrics: SessiondMetrics
    private let logger: Logger
    private var cursor = EventID(milliseconds: 0, sequence: 0)
    private var next: Scheduled<Void>?
    private var lastWrite: NIODeadline
    /// Since when the client has not kept up, or nil.
    private var behindSince: NIODeadline?
    private var reading = false

    init(writer: ResponseStreamWriter, store: any SessionStore, settings: EventStreamSettings, metrics: SessiondMetrics, logger: Logger) {
        self.writer = writer
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.lastWrite = writer.eventLoop.now
    }

    func begin(after asked: EventID?, with page: EventPage) {
        metrics.eventConsumers.increment()
        writer.onClose { [self] in
            next?.cancel()
            next = nil
            metrics.eventConsumers.decrement()
        }
        writer.onWritable { [self] in
            behindSince = nil
            if next == nil, !reading { poll() }
        }
        // How long an EventSource waits before it reconnects.
        var head = ByteBuffer(staticString: "retry: 1000\n\n")
        if page.missed, let asked { head.writeBytes(EventFormat.missed(after: asked)) }
        writer.write(head)
        deliver(page)
    }

    /// Writes a page, then reads on at once when it was full, or after the poll interval.
    private func deliver(_ page: EventPage) {
        cursor = page.cursor
        if !page.events.isEmpty {
            var out = ByteBuffer()
            for event in page.events { out.writeBytes(EventFormat.frame(event)) }
            writer.write(out)
            lastWrite = writer.eventLoop.now
            metrics.eventsSent.increment(by: Int64(page.events.count))
        }
        schedule(after: page.events.count >= settings.pageSize ? .zero : settings.pollInterval)
    }

    private func schedule(after delay: TimeAmount) {
        guard writer.isOpen else { return }
        next = writer.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            next = nil
            poll()
        }
    }

    private func poll() {
        guard writer.isOpen else { return }
        let now = writer.eventLoop.now
        guard writer.isWritable else {
            // Behind: read nothing more. Cut it off once it stayed behind too long.
            let since = behindSince ?? now
            behindSince = since
            if now - since >= settings.consumerTimeout {
                metrics.eventConsumersCut.increment()
                logger.warning(
                    "cut off an event stream consumer that did not read what was sent",
                    metadata: ["unread_bytes": "\(writer.bufferedBytes)", "timeout_ms": "\(settings.consumerTimeout.nanoseconds / 1_000_000)"]
                )
                writer.abort()
                return
            }
            return schedule(after: settings.pollInterval)
        }
        behindSince = nil
        if now - lastWrite >= settings.heartbeat {
            writer.write(ByteBuffer(staticString: ": keep-alive\n\n"))
            lastWrite = now
        }
        reading = true
        store.events(after: cursor, limit: settings.pageSize, on: writer.eventLoop).assumeIsolated().whenComplete { [self] result in
            reading = false
            switch result {
            case let .success(page):
                // A missed page moves the cursor past the gap (`EventPage.cursor`): told once.
                if page.missed { writer.write(ByteBuffer(bytes: EventFormat.missed(after: cursor))) }
                deliver(page)
            case let .failure(error):
                // The store is away: the stream waits (heartbeats go on) and reads on later.
                logger.debug("event stream could not read the store", metadata: ["error": "\(error)"])
                schedule(after: .seconds(1))
            }
        }
    }
}
