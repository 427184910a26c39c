/// What a stored record knows about a rotation it took part in (`Session.rotation`).
///
/// A rotation stores a copy of the session under a new sid, marked `pendingFrom` the original;
/// freezes the original, marked `rotatedTo` the copy; then confirms the copy (`rotatedFrom`).
/// Each step changes one record, so each is atomic on any store (one key on Redis), and the
/// marks let anyone who finds one record tell whether the rotation completed.
public enum RotationMark: Sendable, Hashable {
    /// What remains of a rotated session: its state as it was at the rotation, frozen. It is
    /// read-only until `readableUntil` (the grace window; the epoch for a window of 0, so that no clock reads it as open) and, after
    /// that, a data-less marker until the record expires. `successor` is the copy's handle
    /// (never its sid).
    case rotatedTo(SessionHandle, readableUntil: Timestamp)
    /// A rotation's copy whose original has not been seen frozen for it yet: not served until
    /// it is confirmed (`SessionMutation.confirm`), and it expires soon unless it is.
    case pendingFrom(SessionHandle)
    /// A rotation's confirmed copy: the handle of its original, whose grace window ends when
    /// this session is removed.
    case rotatedFrom(SessionHandle)

    /// The original of a copy (pending or confirmed); nil for a frozen record.
    public var original: SessionHandle? {
        switch self {
        case .rotatedTo: return nil
        case let .pendingFrom(handle), let .rotatedFrom(handle): return handle
        }
    }
}

/// What one stored record says about a rotation, for `SessionStore.rotationState`.
public enum RotationState: Sendable, Hashable {
    /// No live record under the handle.
    case absent
    /// An ordinary live session at this version (or a confirmed copy).
    case live(version: UInt64)
    /// A rotation's copy not confirmed yet.
    case pending
    /// A frozen record that names its successor's handle.
    case rotatedTo(SessionHandle)
}

/// What `SessionStore.freeze` did.
public enum FreezeOutcome: Sendable, Hashable {
    /// The session is frozen, naming its successor.
    case frozen
    /// No live session under the id (nothing changed).
    case notFound
    /// The session is live at another version (nothing changed).
    case conflict(currentVersion: UInt64)
    /// The session was rotated already, to the session with this handle (nothing changed).
    case alreadyRotated(to: SessionHandle)
    /// The session is itself a rotation's copy that is not confirmed yet (nothing changed).
    case pending
}
