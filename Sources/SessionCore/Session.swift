/// One stored session, as the stores keep it and the API shows it.
public struct Session: Sendable, Hashable {
    public var id: SessionID
    /// The session's data: a JSON object as compact UTF-8 bytes, spliced into responses as is.
    public var data: [UInt8]
    /// Whether the permanent lifetime applies (else the standard one).
    public var permanent: Bool
    /// 1 at creation, plus one for every write.
    public var version: UInt64
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The session is gone from this instant on (millisecond precision).
    public var expiresAt: Timestamp

    public init(
        id: SessionID, data: [UInt8], permanent: Bool, version: UInt64,
        createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp
    ) {
        self.id = id
        self.data = data
        self.permanent = permanent
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
    }

    /// Whether the session is still live at `now`: true strictly before `expiresAt`.
    public func isLive(at now: Timestamp) -> Bool { now < expiresAt }

    /// Whole seconds left at `now`, rounded up, so a live session never shows 0; 0 once expired.
    public func ttlSeconds(at now: Timestamp) -> Int64 {
        let left = now.milliseconds(until: expiresAt)
        return left <= 0 ? 0 : (left + 999) / 1000
    }
}
