import NIOCore
import RedisClient
import SessionCore

/// Where a namespace's events live on Redis (see `RedisScripts.eventFunctions`): the stream
/// `<prefix>events`, the expiry schedule `<prefix>events:due` and `<prefix>events:who`.
struct RedisEventKeys: Sendable {
    let stream: ByteBuffer
    let due: ByteBuffer
    let who: ByteBuffer
    /// How many events the stream keeps (`MAXLEN ~`).
    let history: Int
    /// `history` as a script argument, made once.
    let historyArgument: ByteBuffer

    init(prefix: String, history: Int) {
        stream = ByteBuffer(string: prefix + "events")
        due = ByteBuffer(string: prefix + "events:due")
        who = ByteBuffer(string: prefix + "events:who")
        self.history = history
        historyArgument = ByteBuffer(string: String(history))
    }

    /// The keys a session script takes after its session key.
    var keys: [ByteBuffer] { [stream, due, who] }

    /// The arguments a session script takes last, for the session under `handle`.
    func arguments(for handle: SessionHandle) -> [ByteBuffer] {
        [ByteBuffer(string: handle.description), historyArgument]
    }
}

extension RedisStore {
    public var recordsEvents: Bool { eventKeys != nil }

    /// The keys and trailing arguments of a session script on `handle`: its key, and the event
    /// keys and arguments when events are on.
    func scriptKeys(_ handle: SessionHandle, _ arguments: [ByteBuffer]) -> (keys: [ByteBuffer], arguments: [ByteBuffer]) {
        guard let eventKeys else { return ([keyBuffer(handle)], arguments) }
        return ([keyBuffer(handle)] + eventKeys.keys, arguments + eventKeys.arguments(for: handle))
    }

    public func events(after: EventID?, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<EventPage> {
        guard let eventKeys else { return eventLoop.makeFailedFuture(SessionStoreError.eventsOff) }
        let arguments = [ByteBuffer(string: after?.description ?? ""), ByteBuffer(string: String(limit))]
        return pool.evaluate(script: RedisScripts.eventsReadIndex, keys: [eventKeys.stream], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard case let .array(parts) = reply, parts.count == 3, let cursor = parts[0].string.flatMap(EventID.init),
                      let oldest = parts[1].string, case let .array(entries) = parts[2]
                else { throw Self.unexpected(reply, "the events read") }
                let events = try entries.map { try Self.event($0) }
                // Behind the history when the oldest event held is past the position (ID 0 asks
                // for the whole history). Trimming leaves no account of what it dropped, so this
                // also reports a gap when only the consumer's own last event went.
                let missed = (after?.milliseconds ?? 0) > 0 && EventID(oldest).map { $0 > cursor } == true
                return EventPage(events: events, cursor: events.last?.id ?? cursor, missed: missed)
            }
    }

    /// Records `expired` for up to `limit` sessions whose expiry has come at `now`.
    /// - Returns: how many were recorded (call again while it is `limit`).
    public func recordExpiries(at now: Timestamp, limit: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        guard let eventKeys else { return eventLoop.makeSucceededFuture(0) }
        let arguments = [Self.text(now), eventKeys.historyArgument, ByteBuffer(string: String(limit))]
        return pool.evaluate(script: RedisScripts.expireDueIndex, keys: [eventKeys.stream, eventKeys.due, eventKeys.who], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard let count = reply.int else { throw Self.unexpected(reply, "the expiry sweep") }
                return Int(count)
            }
    }

    /// One stream entry (`[id, [field, value, ...]]`, fields as `eventFunctions` writes them)
    /// as an event.
    static func event(_ entry: RESPValue) throws -> SessionEvent {
        guard case let .array(pair) = entry, pair.count == 2, let id = pair[0].string.flatMap(EventID.init),
              case let .array(flat) = pair[1], flat.count % 2 == 0
        else { throw unexpected(entry, "XRANGE") }
        var fields: [String: [UInt8]] = [:]
        for i in stride(from: 0, to: flat.count, by: 2) {
            if let name = flat[i].string, let value = flat[i + 1].bytes { fields[name] = value }
        }
        func text(_ name: String) -> String { String(decoding: fields[name] ?? [], as: UTF8.self) }
        guard let kind = SessionEvent.Kind(rawValue: text("k")), let handle = SessionHandle(text("h")), let time = Int64(text("t")) else {
            throw unexpected(entry, "XRANGE")
        }
        let device = fields["d"].flatMap { $0.isEmpty ? nil : $0 }
        return SessionEvent(
            id: id, kind: kind, handle: handle, from: SessionHandle(text("f")), subject: Subject(text("s")), device: device,
            time: Timestamp(millisecondsSinceEpoch: time)
        )
    }
}
