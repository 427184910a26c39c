/// One change in a session's life, as the event stream (`GET /events`) tells it: never a sid,
/// never data. Events are kept in the order they happened, under their `EventID`.
public struct SessionEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A session was created (a rotation's copy is not: it comes with `rotated`).
        case created
        /// A session's sid was rotated: `handle` is the new sid's, `from` the old sid's.
        case rotated
        /// A session was deleted by its sid.
        case deleted
        /// A session was revoked by its handle (one device, or "log out everywhere").
        case revoked
        /// A session reached its expiry; `time` is when it expired.
        case expired
        /// A session was revoked to keep its subject within `--max-sessions-per-subject`.
        case limitEvicted = "limit_evicted"
    }

    public var id: EventID
    public var kind: Kind
    /// The session's handle (the new one for `rotated`).
    public var handle: SessionHandle
    /// The old handle of a `rotated` event; nil for every other kind.
    public var from: SessionHandle?
    public var subject: Subject?
    /// The session's device metadata (compact JSON), or nil for none.
    public var device: [UInt8]?
    /// When it happened (for `expired`, the expiry itself, which is noticed a little later).
    public var time: Timestamp

    public init(
        id: EventID, kind: Kind, handle: SessionHandle, from: SessionHandle? = nil, subject: Subject?, device: [UInt8]?, time: Timestamp
    ) {
        self.id = id
        self.kind = kind
        self.handle = handle
        self.from = from
        self.subject = subject
        self.device = device
        self.time = time
    }
}

/// Why a session is removed by its handle: the event it makes.
public enum RemovalReason: Sendable, Hashable {
    /// The app revoked it (`revoked`).
    case revoked
    /// The subject's session limit made room (`limit_evicted`).
    case limitEvicted

    public var eventKind: SessionEvent.Kind { self == .revoked ? .revoked : .limitEvicted }
}
