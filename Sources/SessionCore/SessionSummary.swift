/// A session as a subject listing shows it: the public handle and the times, never the sid or
/// the data.
public struct SessionSummary: Sendable, Hashable {
    public var handle: SessionHandle
    public var permanent: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var expiresAt: Timestamp

    public init(handle: SessionHandle, permanent: Bool, createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp) {
        self.handle = handle
        self.permanent = permanent
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
    }
}
