/// A change to a stored session, applied atomically by `SessionStore.update`.
public enum SessionMutation: Sendable, Hashable {
    /// PUT: the whole writable state (`device` nil clears it). Version + 1, `updatedAt` = now,
    /// the expiry slides.
    case replace(data: [UInt8], permanent: Bool, subject: Subject?, lifetime: Int64?, device: [UInt8]? = nil)
    /// PATCH: an RFC 7396 merge patch. Version + 1, `updatedAt` = now, the expiry slides.
    case patch(SessionPatch)
    /// Slides the expiry only; version and `updatedAt` stay.
    case touch
    /// Confirms a rotation's copy pending from the session with this handle (the rotation has
    /// frozen it): the copy is served from now on. Slides the expiry as a touch does; applies
    /// only to a copy pending from (or confirmed from) that handle, else `.notFound`.
    case confirm(from: SessionHandle)

    /// Whether the mutation writes state (a new version and `updatedAt`): replace and patch.
    public var isWrite: Bool {
        switch self {
        case .replace, .patch: return true
        case .touch, .confirm: return false
        }
    }
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
    /// What happens to the `device` object (replaced whole, never merged).
    public var device: MemberChange<[UInt8]>
    /// The most bytes the merged data may have; a larger result is refused (`.dataTooLarge`) and
    /// nothing is written.
    public var maxDataBytes: Int

    public init(
        data: [UInt8]?, permanent: Bool?, subject: MemberChange<Subject>, lifetime: MemberChange<Int64> = .keep, maxDataBytes: Int,
        device: MemberChange<[UInt8]> = .keep
    ) {
        self.device = device
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
    /// The id is a rotated session's, whose grace window is open: it reads the state of the
    /// rotation but takes no writes or touches; nothing written.
    case rotated
    /// The id is a rotation's copy not confirmed yet (`RotationMark.pendingFrom` this handle):
    /// the caller finds out whether the rotation completed; nothing written.
    case pending(from: SessionHandle)
}

/// What `SessionStore.remove` did.
public enum RemoveOutcome: Sendable, Hashable {
    case removed
    /// Absent or expired (or, for a removal by handle, of another subject).
    case notFound
    /// The condition failed: the session is live at this version and stays.
    case conflict(currentVersion: UInt64)
    /// The id is a rotated session's whose grace window is open: it stays until the window ends.
    case rotated
}
