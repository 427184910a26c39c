/// A failure of the store itself, as opposed to an answer such as "not found".
///
/// The HTTP layer answers `.unavailable` and `.timeout` with 503 and `Retry-After`.
public struct SessionStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure: callers switch over it (new cases may come).
    public enum Code: Hashable, Sendable {
        case unavailable
        case timeout
        case duplicateID
        case contended
        case full
        case refused
        case eventsOff
    }

    /// Why a store that answered refused a command (`.refused` only), for logs and metrics.
    public enum Refusal: String, Hashable, Sendable, CaseIterable {
        /// Redis is out of memory (`maxmemory` reached with the `noeviction` policy).
        case outOfMemory = "oom"
        /// The Redis server is a replica (a failover moved the master).
        case readOnly = "readonly"
        /// The ACL user may not run the command.
        case noPermission = "noperm"
        /// Any other error reply.
        case other
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, for logs; never contains session data.
    public let detail: String
    /// Why the store refused, for `.refused`; nil otherwise.
    public let refusal: Refusal?

    private init(_ code: Code, _ detail: String, refusal: Refusal? = nil) {
        self.code = code
        self.detail = detail
        self.refusal = refusal
    }

    /// The store cannot be reached or refused the command.
    public static func unavailable(_ detail: String) -> SessionStoreError { .init(.unavailable, detail) }
    /// The store did not answer in time.
    public static func timeout(_ detail: String) -> SessionStoreError { .init(.timeout, detail) }
    /// `insert` found a live session with the same id.
    public static let duplicateID = SessionStoreError(.duplicateID, "a session with this id exists")

    /// A step kept losing to concurrent writes of the same session (a rotation retried too often).
    public static func contended(_ detail: String) -> SessionStoreError { .init(.contended, detail) }

    /// The store answered but refused the command (Redis out of memory, a replica, no
    /// permission): nothing was written.
    public static func refused(_ refusal: Refusal, _ detail: String) -> SessionStoreError { .init(.refused, detail, refusal: refusal) }

    /// The store holds as many sessions as it may (`--max-sessions` on the embedded store).
    public static func full(_ detail: String) -> SessionStoreError { .init(.full, detail) }

    /// The store records no events (`--event-history 0`, or a store that cannot).
    public static let eventsOff = SessionStoreError(.eventsOff, "this store records no events")

    /// Whether the store is unusable right now (unavailable, timed out, contended, refusing):
    /// worth a retry later.
    public var isTransient: Bool { code == .unavailable || code == .timeout || code == .contended || code == .refused }

    /// Compares the kind only.
    public static func == (lhs: SessionStoreError, rhs: SessionStoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "\(code): \(detail)" }
}
