import SessionCore

/// One record of a log or snapshot, decoded (docs/DURABLE-STORE.md lists the bytes).
///
/// Every record names its namespace (the API key's; "" without keys): one data directory holds
/// the sessions of every namespace, kept apart as the stores in memory are.
enum DurableRecord: Sendable, Hashable {
    /// The session under `handle` in `namespace` is now `session` (its `id` is not stored).
    case put(namespace: String, handle: SessionHandle, session: Session)
    /// The session under `handle` in `namespace` is gone.
    case remove(namespace: String, handle: SessionHandle)
    /// The session under `handle` in `namespace` now expires at `expiresAt`.
    /// (`lastSeenAt` nil in a record of format 1, which did not keep it.)
    case touch(namespace: String, handle: SessionHandle, expiresAt: Timestamp, lastSeenAt: Timestamp?)
    /// The last record of a snapshot: how many sessions it holds. A snapshot without it is
    /// incomplete.
    case end(count: UInt64)

    /// The payload's first byte.
    enum Kind: UInt8 {
        case put = 1
        case remove = 2
        case touch = 3
        case end = 4
    }

    /// The record of a store change in `namespace`.
    init(_ change: JournalChange, namespace: String) {
        switch change {
        case let .put(handle, session): self = .put(namespace: namespace, handle: handle, session: session)
        case let .remove(handle): self = .remove(namespace: namespace, handle: handle)
        case let .touch(handle, expiresAt, lastSeenAt):
            self = .touch(namespace: namespace, handle: handle, expiresAt: expiresAt, lastSeenAt: lastSeenAt)
        }
    }
}
