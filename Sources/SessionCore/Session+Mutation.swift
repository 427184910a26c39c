import JSONDocument

extension Session {
    /// This session after `mutation` at `now`, or nil when a patch would make the data larger
    /// than allowed. The rule that every store applies inside its atomic section:
    /// - replace and patch: the version rises by one and `updatedAt` becomes `now`;
    /// - touch and confirm: version and `updatedAt` stay (confirm marks the copy `rotatedFrom`);
    /// - all: `lastSeenAt` becomes `now`, the expiry slides to `now` + lifetime (the session's own, else the one its
    ///   permanence picks), never past the absolute cap.
    public func applying(_ mutation: SessionMutation, at now: Timestamp, policy: LifetimePolicy) -> Session? {
        var next = self
        switch mutation {
        case let .replace(data, permanent, subject, lifetime, device):
            next.data = data
            next.permanent = permanent
            next.subject = subject
            next.lifetime = lifetime
            next.device = device
        case let .patch(patch):
            if let dataPatch = patch.data {
                let merged = JSONMergePatch.apply(dataPatch, to: data)
                guard merged.count <= patch.maxDataBytes else { return nil }
                next.data = merged
            }
            if let permanent = patch.permanent { next.permanent = permanent }
            if case let .set(subject) = patch.subject { next.subject = subject }
            if case let .set(lifetime) = patch.lifetime { next.lifetime = lifetime }
            if case let .set(device) = patch.device { next.device = device }
        case .touch:
            break
        case let .confirm(from):
            next.rotation = .rotatedFrom(from)
        }
        next.lastSeenAt = now
        if mutation.isWrite {
            next.version = version &+ 1
            next.updatedAt = now
        }
        next.expiresAt = policy.expiry(createdAt: createdAt, now: now, permanent: next.permanent, own: next.lifetime)
        return next
    }
}
