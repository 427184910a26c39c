import NIOConcurrencyHelpers

/// The embedded store's event history: the newest `capacity` events in a ring buffer, in
/// memory. Appending is one short critical section, made inside the change's own (so the order
/// of events is the order of changes to each session); reading copies a page out.
///
/// The history starts empty with every process (a durable store keeps sessions across a
/// restart, not their events): a consumer that resumes from an ID of an earlier process is told
/// it missed events (`EventPage.missed`).
public final class SessionEventRing: Sendable {
    private struct State {
        var slots: [SessionEvent?]
        /// Index of the oldest event in `slots`.
        var head = 0
        var count = 0
        /// The newest ID given out, or the start of this history.
        var newest: EventID
        /// The newest ID that is no longer held (dropped, or before this history began):
        /// a reader after an older ID missed something.
        var dropped: EventID
    }

    /// How many events are kept.
    public let capacity: Int
    private let state: NIOLockedValueBox<State>

    /// - Parameters:
    ///   - capacity: the most events kept (at least 1).
    ///   - startedAt: when this history begins; anything before it counts as missed.
    public init(capacity: Int, startedAt: Timestamp) {
        self.capacity = max(1, capacity)
        // The history's own start: the first event comes after it, and a reader at an older
        // position (an earlier process's) missed something.
        let start = EventID(milliseconds: UInt64(max(0, startedAt.millisecondsSinceEpoch)), sequence: 0)
        state = NIOLockedValueBox(State(slots: Array(repeating: nil, count: self.capacity), newest: start, dropped: start))
    }

    /// Records an event at `time` and gives it the next ID: `time`'s millisecond, or the newest
    /// ID's when the clock reads earlier.
    @discardableResult
    public func append(
        _ kind: SessionEvent.Kind, handle: SessionHandle, from: SessionHandle? = nil, subject: Subject?, device: [UInt8]?, time: Timestamp
    ) -> EventID {
        state.withLockedValue { state in
            let ms = UInt64(max(0, time.millisecondsSinceEpoch))
            let newest = state.newest
            let id: EventID
            if ms > newest.milliseconds {
                id = EventID(milliseconds: ms, sequence: 0)
            } else if newest.sequence < UInt64.max {
                id = EventID(milliseconds: newest.milliseconds, sequence: newest.sequence + 1)
            } else {
                id = EventID(milliseconds: newest.milliseconds + 1, sequence: 0)
            }
            let event = SessionEvent(id: id, kind: kind, handle: handle, from: from, subject: subject, device: device, time: time)
            if state.count == capacity {
                if let oldest = state.slots[state.head] { state.dropped = oldest.id }
                state.slots[state.head] = event
                state.head = (state.head + 1) % capacity
            } else {
                state.slots[(state.head + state.count) % capacity] = event
                state.count += 1
            }
            state.newest = id
            return id
        }
    }

    /// Up to `limit` events after `after`, oldest first; with `after` nil, none and the newest
    /// ID as the cursor (a new consumer starts from now). `missed` when events after `after`
    /// were dropped (never for ID 0, which asks for everything held).
    public func read(after: EventID?, limit: Int) -> EventPage {
        state.withLockedValue { state in
            guard let after else { return EventPage(events: [], cursor: state.newest, missed: false) }
            // ID 0 asks for the whole history, whatever was dropped.
            let missed = after.milliseconds > 0 && after < state.dropped
            // The first held event after `after`: IDs grow along the ring, so a binary search.
            var low = 0
            var high = state.count
            while low < high {
                let middle = (low + high) / 2
                let id = state.slots[(state.head + middle) % capacity]?.id ?? after
                if id <= after { low = middle + 1 } else { high = middle }
            }
            var events: [SessionEvent] = []
            events.reserveCapacity(min(limit, state.count - low))
            var position = low
            while position < state.count, events.count < limit {
                if let event = state.slots[(state.head + position) % capacity] { events.append(event) }
                position += 1
            }
            // Behind with nothing held after it (an empty history after a restart): the cursor
            // moves past the gap, so that it is told once.
            let cursor = events.last?.id ?? (missed ? max(after, state.newest) : after)
            return EventPage(events: events, cursor: cursor, missed: missed)
        }
    }

    /// How many events are held.
    public var count: Int { state.withLockedValue { $0.count } }
}
