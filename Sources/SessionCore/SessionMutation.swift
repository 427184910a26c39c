/// A change to a stored session, applied atomically by `SessionStore.update`.
public enum SessionMutation: Sendable, Hashable {
    /// PUT: the whole writable state. Version + 1, `updatedAt` = now, the expiry slides.
    case replace(data: [UInt8], permanent: Bool, subject: Subject?, lifetime: Int64?)
    /// PATCH: an RFC 7396 merge patch. Version + 1, `updatedAt` = now, the expiry slides.
    case patch(SessionPatch)
    /// Slides the expiry only; version and `updatedAt` stay.
    case touch
}

/// A merge patch of the session resource (`PATCH /sessions/{sid}`), already validated.
public struct SessionPatch: Sendable, Hashable {
    /// The merge patch for `data` (compact JSON object bytes), or nil to leave data alone.
    public var data: [UInt8]?
    /// The new permanence, or nil to keep it.
    public var permanent: Bool?
    /// What happens to the subject.
    public var subject: MemberChange<Subject>
    /// What happens to the session's own lifetime (milliseconds).
    public var lifetime: MemberChange<Int64>
    /// The most bytes the merged data may have; a larger result is refused (`.dataTooLarge`) and
    /// nothing is written.
    public var maxDataBytes: Int

    public init(
        data: [UInt8]?, permanent: Bool?, subject: MemberChange<Subject>, lifetime: MemberChange<Int64> = .keep, maxDataBytes: Int
    ) {
        self.data = data
        self.permanent = permanent
        self.subject = subject
        self.lifetime = lifetime
        self.maxDataBytes = maxDataBytes
    }
}

/// A patch's effect on an optional member such as `subject` or `lifetime`: absent (keep),
/// `null` (clear: `.set(nil)`) or a value (set).
public enum MemberChange<Value: Sendable & Hashable>: Sendable, Hashable {
    case keep
    case set(Value?)
}

/// What `SessionStore.update` did.
public enum UpdateOutcome: Sendable, Hashable {
    case updated(Session)
    /// Absent or expired: nothing written.
    case notFound
    /// The condition failed: the session is live at this version; nothing written.
    case conflict(currentVersion: UInt64)
    /// A patch would make `data` larger than its `maxDataBytes`; nothing written.
    case dataTooLarge
}

/// What `SessionStore.remove` did.
public enum RemoveOutcome: Sendable, Hashable {
    case removed
    /// Absent or expired (or, for a removal by handle, of another subject).
    case notFound
    /// The condition failed: the session is live at this version and stays.
    case conflict(currentVersion: UInt64)
}
