/// How long sessions live: the rule of DESIGN.md, "Lifetimes".
///
/// A permanent session lives `permanent` after its last write or touch, any other session
/// `standard`, and a session with a lifetime of its own (set by the app, at most `maxOwn`)
/// that long; when `absolute` is set, no session outlives `created_at + absolute`, whatever
/// its activity. All values are milliseconds and positive.
public struct LifetimePolicy: Sendable, Hashable {
    /// Idle lifetime of permanent sessions (default 31 days).
    public var permanent: Int64
    /// Idle lifetime of the other sessions (default one day).
    public var standard: Int64
    /// Cap counted from creation, or nil for none (the default).
    public var absolute: Int64?
    /// The longest lifetime an app may give one session (`--max-lifetime`; by default the
    /// permanent lifetime).
    public var maxOwn: Int64
    /// How long, after a rotation, the old sid still reads the session as it was at the
    /// rotation (`--rotation-grace`, default 0 = not at all, at most `maxRotationGrace`); a
    /// rotate may ask for less.
    public var rotationGrace: Int64

    public static let defaultPermanent: Int64 = 31 * 86_400_000
    public static let defaultStandard: Int64 = 86_400_000
    /// The longest grace window `--rotation-grace` may set: 60 s.
    public static let maxRotationGrace: Int64 = 60_000
    /// How long a rotated session's record outlives the rotation at least (a data-less marker
    /// after its grace window), and how long a rotation's copy lives unless it is confirmed: a
    /// failed rotate can be retried or checked for that long.
    public static let rotationRecordLifetime: Int64 = 60_000

    /// - Parameter maxOwn: nil for the permanent lifetime.
    public init(
        permanent: Int64 = defaultPermanent, standard: Int64 = defaultStandard, absolute: Int64? = nil, maxOwn: Int64? = nil,
        rotationGrace: Int64 = 0
    ) {
        self.rotationGrace = rotationGrace
        self.permanent = permanent
        self.standard = standard
        self.absolute = absolute
        self.maxOwn = maxOwn ?? permanent
    }

    /// When a session written or touched at `now` expires.
    ///
    /// - Parameter own: the session's own lifetime, or nil to let `permanent` pick.
    /// - Returns: `now + lifetime` (its own, else permanent or standard), capped at
    ///   `createdAt + absolute`.
    public func expiry(createdAt: Timestamp, now: Timestamp, permanent isPermanent: Bool, own: Int64? = nil) -> Timestamp {
        let sliding = now.adding(milliseconds: own ?? (isPermanent ? permanent : standard))
        guard let absolute else { return sliding }
        return min(sliding, createdAt.adding(milliseconds: absolute))
    }
}
