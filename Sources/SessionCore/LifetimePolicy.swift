/// How long sessions live: the rule of DESIGN.md, "Lifetimes".
///
/// A permanent session lives `permanent` after its last write or touch, any other session
/// `standard`; when `absolute` is set, no session outlives `created_at + absolute`, whatever
/// its activity. All values are milliseconds and positive.
public struct LifetimePolicy: Sendable, Hashable {
    /// Idle lifetime of permanent sessions (default 31 days).
    public var permanent: Int64
    /// Idle lifetime of the other sessions (default one day).
    public var standard: Int64
    /// Cap counted from creation, or nil for none (the default).
    public var absolute: Int64?

    public static let defaultPermanent: Int64 = 31 * 86_400_000
    public static let defaultStandard: Int64 = 86_400_000

    public init(permanent: Int64 = defaultPermanent, standard: Int64 = defaultStandard, absolute: Int64? = nil) {
        self.permanent = permanent
        self.standard = standard
        self.absolute = absolute
    }

    /// When a session written or touched at `now` expires.
    ///
    /// - Returns: `now + lifetime` (permanent or standard), capped at `createdAt + absolute`.
    public func expiry(createdAt: Timestamp, now: Timestamp, permanent isPermanent: Bool) -> Timestamp {
        let sliding = now.adding(milliseconds: isPermanent ? permanent : standard)
        guard let absolute else { return sliding }
        return min(sliding, createdAt.adding(milliseconds: absolute))
    }
}
