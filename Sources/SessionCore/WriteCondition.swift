/// When a write may apply: the `If-Match` of the request, checked inside the store's atomic
/// section so that no other write can slip in between the check and the write.
public enum WriteCondition: Sendable, Hashable {
    /// No condition (no `If-Match`, or `If-Match: *`): the write applies to a live session.
    case always
    /// The write applies only while the session's version is one of these (a strong `If-Match`
    /// list); an empty set never matches a live session.
    case versions(Set<UInt64>)

    /// Whether a live session at `version` may be written.
    public func allows(_ version: UInt64) -> Bool {
        switch self {
        case .always: return true
        case let .versions(accepted): return accepted.contains(version)
        }
    }
}
