/// Where an event stands in its namespace's history: milliseconds since the epoch and a
/// sequence number within that millisecond, written `<ms>-<seq>` (the form of a Redis Stream
/// entry ID, which it is on the Redis store). IDs only grow, so a consumer resumes after the
/// last one it saw (`Last-Event-ID`).
public struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `<ms>-<seq>` (or `<ms>`, sequence 0): decimal digits only, each part at most 20
    /// digits and within `UInt64`. Returns nil for anything else.
    public init?(_ text: String) {
        let parts = text.utf8.split(separator: UInt8(ascii: "-"), maxSplits: 1, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let ms = Self.number(parts[0]) else { return nil }
        let seq: UInt64
        if parts.count == 2 {
            guard let parsed = Self.number(parts[1]) else { return nil }
            seq = parsed
        } else {
            seq = 0
        }
        self.init(milliseconds: ms, sequence: seq)
    }

    private static func number(_ digits: Substring.UTF8View.SubSequence) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return UInt64(Substring(digits))
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (a: EventID, b: EventID) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }
}

/// What a read of the event history gives: the events after the asked position, in order, and
/// where to read on from.
public struct EventPage: Sendable, Hashable {
    public var events: [SessionEvent]
    /// The position to ask for next: the last event's ID, or (with no events) the asked one,
    /// or the newest ID when none was asked. A page that is `missed` always moves past the
    /// asked position, so that the next read is not told the same gap again.
    public var cursor: EventID
    /// True when events after the asked position were dropped from the bounded history (or
    /// lost in a restart) before this read: the consumer missed some.
    public var missed: Bool

    public init(events: [SessionEvent], cursor: EventID, missed: Bool) {
        self.events = events
        self.cursor = cursor
        self.missed = missed
    }
}
