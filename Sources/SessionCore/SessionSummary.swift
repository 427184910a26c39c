/// A session as a subject listing shows it: the public handle and the times, never the sid or
/// the data.
public struct SessionSummary: Sendable, Hashable {
    public var handle: SessionHandle
    public var permanent: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var expiresAt: Timestamp
    /// The frozen record of a rotated session: not shown in listings, but revoked with the
    /// subject, and not counted as a session of its own.
    public var frozen: Bool
    /// A rotation's copy not confirmed yet: not shown in listings (until confirmed, the original
    /// is the live one), but revoked with the subject.
    public var pending: Bool

    /// The session's `device` object (compact JSON), or nil.
    public var device: [UInt8]?
    /// The session's last write or touch.
    public var lastSeenAt: Timestamp

    /// Whether the entry is a frozen record or an unconfirmed copy (left out of listings).
    public var inRotation: Bool { frozen || pending }

    public init(
        handle: SessionHandle, permanent: Bool, createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp,
        frozen: Bool = false, pending: Bool = false, device: [UInt8]? = nil, lastSeenAt: Timestamp? = nil
    ) {
        self.device = device
        self.lastSeenAt = lastSeenAt ?? updatedAt
        self.handle = handle
        self.permanent = permanent
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.frozen = frozen
        self.pending = pending
    }
}
