/// One stored session, as the stores keep it and the API shows it.
public struct Session: Sendable, Hashable {
    public var id: SessionID
    /// The session's data: a JSON object as compact UTF-8 bytes, spliced into responses as is.
    public var data: [UInt8]
    /// Whether the permanent lifetime applies (else the standard one).
    public var permanent: Bool
    /// Whom the session belongs to, for listing and revoking; nil for none.
    public var subject: Subject?
    /// This session's own idle lifetime in milliseconds, set by the app; nil for none, when
    /// `permanent` picks the policy's lifetime.
    public var lifetime: Int64?
    /// 1 at creation, plus one for every write of data, permanence or subject (not for a touch).
    public var version: UInt64
    public var createdAt: Timestamp
    /// The last write (a touch does not count).
    public var updatedAt: Timestamp
    /// The session is gone from this instant on (millisecond precision).
    public var expiresAt: Timestamp
    /// The record's part in a rotation: nil for an ordinary session (see `RotationMark`).
    public var rotation: RotationMark?
    /// What the app says about the device (user agent, address, a name): a small compact JSON
    /// object of strings (the API checks its limits), kept apart from `data`; nil for none.
    public var device: [UInt8]?
    /// The last write or touch (the creation at first): for "your devices" pages.
    public var lastSeenAt: Timestamp

    public init(
        id: SessionID, data: [UInt8], permanent: Bool, subject: Subject? = nil, lifetime: Int64? = nil, version: UInt64,
        createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp, rotation: RotationMark? = nil,
        device: [UInt8]? = nil, lastSeenAt: Timestamp? = nil
    ) {
        self.device = device
        self.lastSeenAt = lastSeenAt ?? updatedAt
        self.id = id
        self.data = data
        self.permanent = permanent
        self.subject = subject
        self.lifetime = lifetime
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.rotation = rotation
    }

    /// The public name of this session (a one-way hash of the sid).
    public var handle: SessionHandle { SessionHandle(id) }

    /// Whether the session is still live at `now`: true strictly before `expiresAt`.
    public func isLive(at now: Timestamp) -> Bool { now < expiresAt }

    /// Whole seconds left at `now`, rounded up, so a live session never shows 0; 0 once expired.
    public func ttlSeconds(at now: Timestamp) -> Int64 { expiresAt.ttlSeconds(at: now) }

    /// What a subject listing shows of this session: no sid, no data.
    public var summary: SessionSummary { summary(handle: handle) }

    /// The listing entry under `handle` (the store's key, for a session restored without its sid).
    public func summary(handle: SessionHandle) -> SessionSummary {
        SessionSummary(
            handle: handle, permanent: permanent, createdAt: createdAt, updatedAt: updatedAt, expiresAt: expiresAt,
            frozen: isFrozen, pending: isPending, device: device, lastSeenAt: lastSeenAt
        )
    }

    /// Whether this record is what remains of a rotated session (see `RotationMark.rotatedTo`).
    public var isFrozen: Bool {
        if case .rotatedTo = rotation { return true }
        return false
    }

    /// Whether this record is a rotation's copy that is not confirmed yet.
    public var isPending: Bool {
        if case .pendingFrom = rotation { return true }
        return false
    }

    /// Whether this frozen record may still be read at `now` (its grace window is open).
    public func isReadableFrozen(at now: Timestamp) -> Bool {
        guard case let .rotatedTo(_, readableUntil) = rotation else { return false }
        return now < readableUntil && now < expiresAt
    }
}

extension Timestamp {
    /// Whole seconds from `now` to this instant, rounded up; 0 once it has passed.
    public func ttlSeconds(at now: Timestamp) -> Int64 {
        let left = now.milliseconds(until: self)
        return left <= 0 ? 0 : (left + 999) / 1000
    }
}
