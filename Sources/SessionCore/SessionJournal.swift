import NIOCore

/// Where the embedded store records its changes so that they outlive the process (the durable
/// store of `--data-dir`). `MemoryStore` calls it; without a journal it keeps sessions in memory
/// only.
///
/// Contract:
/// - `record` is called inside the session's critical section, after the change is applied in
///   memory, so the records of one session are in the order of its changes. It must not block:
///   it only buffers the record.
/// - `whenDurable` completes on `eventLoop` once the recorded change is as safe as the journal
///   promises (written to the kernel, or fsynced with `--fsync always`), or fails with
///   `SessionStoreError.unavailable` when it could not be written.
/// - While `writeRefusal()` gives an error, writes are refused before they change anything;
///   reads go on.
/// - Records carry states, never operations to redo: replaying a record twice, or over a
///   snapshot that already holds its effect, gives the same state.
public protocol SessionJournal: Sendable {
    /// nil when writes may go ahead; else the error to fail them with (the data directory
    /// cannot be written now).
    func writeRefusal() -> SessionStoreError?

    /// Buffers `change`; called inside the critical section of the session it names.
    /// - Returns: the ticket to wait for with `whenDurable`.
    func record(_ change: JournalChange) -> JournalTicket

    /// Completes on `eventLoop` when the change of `ticket` is durable as configured.
    func whenDurable(_ ticket: JournalTicket, on eventLoop: any EventLoop) -> EventLoopFuture<Void>
}

/// One change of the embedded store, as the journal records it: the resulting state, keyed by
/// handle. No sid is ever part of it.
public enum JournalChange: Sendable {
    /// The session under `handle` is now `session` (its `id` is not recorded).
    case put(SessionHandle, Session)
    /// The session under `handle` is gone.
    case remove(SessionHandle)
    /// The session under `handle` now expires at `expiresAt` and was last seen at `lastSeenAt`
    /// (a touch: nothing else changed).
    case touch(SessionHandle, expiresAt: Timestamp, lastSeenAt: Timestamp)
}

/// A position in a journal: a change is durable once the journal has reached it.
public struct JournalTicket: Sendable, Hashable, Comparable {
    /// Bytes recorded since the journal started, up to the end of the change.
    public let position: UInt64

    public init(position: UInt64) {
        self.position = position
    }

    public static func < (lhs: JournalTicket, rhs: JournalTicket) -> Bool { lhs.position < rhs.position }
}
