extension Session {
    /// This session after `mutation` at `now`: the version rises by one, `updatedAt` is `now`,
    /// and the expiry slides by `policy` (never past the absolute cap). The rule that every store
    /// applies inside its atomic section.
    public func applying(_ mutation: SessionMutation, at now: Timestamp, policy: LifetimePolicy) -> Session {
        var next = self
        switch mutation {
        case let .replace(data, permanent):
            next.data = data
            next.permanent = permanent
        }
        next.version = version &+ 1
        next.updatedAt = now
        next.expiresAt = policy.expiry(createdAt: createdAt, now: now, permanent: next.permanent)
        return next
    }
}
