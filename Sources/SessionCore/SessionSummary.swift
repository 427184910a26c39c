/// A session as a subject listing shows it: the public handle and the times, never the sid or
/// the data.
public struct SessionSummary: Sendable, Hashable {
    public var handle: SessionHandle
    public var permanent: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var expiresAt: Timestamp
    /// A frozen record of a rotated session, or a rotation's copy not confirmed yet: not shown
    /// in listings (it is not a live session of its own), but revoked with the subject.
    public var inRotation: Bool

    public init(
        handle: SessionHandle, permanent: Bool, createdAt: Timestamp, updatedAt: Timestamp, expiresAt: Timestamp, inRotation: Bool = false
    ) {
        self.handle = handle
        self.permanent = permanent
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.inRotation = inRotation
    }
}
