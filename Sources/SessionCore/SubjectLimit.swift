/// What a create does when the subject has as many live sessions as
/// `--max-sessions-per-subject` allows (`?on_limit=` on create).
public enum LimitPolicy: String, Sendable, Hashable, CaseIterable {
    /// The least recently seen session of the subject (oldest last write or touch) is revoked
    /// to make room: the default.
    case evictOldest = "evict_oldest"
    /// The create is refused (409 `too-many-sessions`); nothing changes.
    case refuse
}

/// One session as a subject's limit table counts it: its handle and when it was last seen.
public struct SubjectLimitEntry: Sendable, Hashable {
    public var handle: SessionHandle
    /// The session's last write or touch as the table knows it.
    public var lastSeen: Timestamp

    public init(handle: SessionHandle, lastSeen: Timestamp) {
        self.handle = handle
        self.lastSeen = lastSeen
    }
}

/// What `SessionStore.admit` did.
public enum AdmitOutcome: Sendable, Hashable {
    /// The handle is counted in the subject's table now.
    case admitted
    /// The table holds `max` other live entries (listed): nothing changed.
    case full([SubjectLimitEntry])
}

/// A create refused because the subject has as many live sessions as allowed and the policy is
/// `LimitPolicy.refuse`; nothing was stored.
public struct TooManySessions: Error, Sendable, Hashable {
    public let subject: Subject
    public let limit: Int

    public init(subject: Subject, limit: Int) {
        self.subject = subject
        self.limit = limit
    }
}
