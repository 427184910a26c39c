import Logging
import NIOCore
import RedisClient
import SessionCore

/// `SessionStore` on Redis: one hash per session under `prefix + handle` (the sid itself is
/// never stored), expiring in Redis at the session's expiry, so Redis drops expired sessions
/// itself and memory stays bounded; and one sorted set per subject (`RedisSubjectIndex`).
///
/// Reads are one HMGET; each write is one Lua script (EVALSHA) that Redis runs atomically and
/// that touches one key only. A write that needs the subject index to cover it first gets a
/// grant there, then runs again (about once per session per day). Every call answers on the
/// caller's event loop, through that loop's own connections. A Redis that is down or slow fails
/// calls with `SessionStoreError.unavailable` or `.timeout` within the command timeout: never
/// "not found", never a hang.
public final class RedisStore: SessionStore {
    /// The connections; run it as a `Service` so that it closes on shutdown.
    public let pool: RedisConnectionPool
    public let policy: LifetimePolicy
    let prefix: String
    let index: RedisSubjectIndex
    /// The namespace's event keys, or nil when events are off.
    let eventKeys: RedisEventKeys?

    public convenience init(
        configuration: RedisConfiguration, security: (any RedisChannelSecurity)? = nil, prefix: String = "sessiond:",
        policy: LifetimePolicy, eventHistory: Int = 0, group: any EventLoopGroup, logger: Logger
    ) {
        let pool = Self.makePool(configuration: configuration, security: security, group: group, logger: logger)
        self.init(pool: pool, prefix: prefix, policy: policy, eventHistory: eventHistory)
    }

    /// A store on an existing pool (made by `makePool`), so that several key spaces (one per
    /// namespace) share the connections.
    /// - Parameter eventHistory: how many events the namespace's stream keeps; 0 records none
    ///   (and must be 0 on Redis Cluster, where the scripts may touch their session's key only).
    public init(pool: RedisConnectionPool, prefix: String, policy: LifetimePolicy, eventHistory: Int = 0) {
        self.pool = pool
        self.prefix = prefix
        self.policy = policy
        self.index = RedisSubjectIndex(pool: pool, prefix: prefix, slack: policy.standard)
        self.eventKeys = eventHistory > 0 ? RedisEventKeys(prefix: prefix, history: eventHistory) : nil
    }

    /// A connection pool that loads the store's scripts.
    /// - Parameter security: TLS for `rediss://`, or nil for plain TCP.
    /// - Parameter observer: gets the client's redirects, map reads, failovers and per-node latencies.
    public static func makePool(
        configuration: RedisConfiguration, security: (any RedisChannelSecurity)? = nil, group: any EventLoopGroup,
        observer: (any RedisClientObserver)? = nil, logger: Logger
    ) -> RedisConnectionPool {
        RedisConnectionPool(
            configuration: configuration, group: group, scripts: RedisScripts.all, security: security, observer: observer, logger: logger
        )
    }

    /// The Redis key of a session: the prefix and the session's handle.
    public func key(for handle: SessionHandle) -> String { prefix + handle.description }

    /// The Redis key of a subject's index.
    public func indexKey(for subject: Subject) -> String { prefix + "subject:" + subject.value }

    func keyBuffer(_ handle: SessionHandle) -> ByteBuffer { ByteBuffer(string: key(for: handle)) }

    private static func text(_ value: Int64) -> ByteBuffer { ByteBuffer(string: String(value)) }
    static func text(_ value: Timestamp) -> ByteBuffer { ByteBuffer(string: String(value.millisecondsSinceEpoch)) }

    // MARK: - SessionStore

    /// Redis has no session limit of its own (`maxmemory` bounds it), so `replacing` changes nothing.
    public func insert(_ session: Session, replacing: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let handle = session.handle
        let cover: EventLoopFuture<(String, Int64)>
        if let subject = session.subject {
            cover = index.grant(handle, to: subject, until: session.expiresAt.millisecondsSinceEpoch, at: session.updatedAt, on: eventLoop)
                .map { (subject.value, $0) }
        } else {
            cover = eventLoop.makeSucceededFuture(("", 0))
        }
        let pool = self.pool
        return cover.flatMap { isub, iexp in
            let arguments = [
                ByteBuffer(bytes: session.data), ByteBuffer(string: session.permanent ? "1" : "0"),
                ByteBuffer(string: session.subject?.value ?? ""), Self.text(Int64(session.version)), Self.text(session.createdAt),
                Self.text(session.updatedAt), Self.text(session.expiresAt), ByteBuffer(string: isub), Self.text(iexp),
                ByteBuffer(string: session.lifetime.map { String($0) } ?? ""),
                ByteBuffer(string: session.isPending ? session.rotation?.original?.description ?? "" : ""),
                ByteBuffer(bytes: session.device ?? []), Self.text(session.lastSeenAt),
            ]
            let script = self.scriptKeys(handle, arguments)
            return pool.evaluate(script: RedisScripts.insertIndex, keys: script.keys, arguments: script.arguments, on: eventLoop)
                .flatMapErrorThrowing { throw Self.storeError($0) }
                .flatMapThrowing { reply in
                    guard let stored = reply.int else { throw Self.unexpected(reply, "insert") }
                    if stored == 0 { throw SessionStoreError.duplicateID }
                }
        }
    }

    public func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        let key = keyBuffer(SessionHandle(id))
        var arguments = Self.loadCommand
        arguments[1] = key
        let command = RedisCommand(arguments)
        return pool.send(command, key: key, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard case let .array(fields) = reply, fields.count == 14 else { throw Self.unexpected(reply, "HMGET") }
                // No data: absent, or a rotated session's data-less marker.
                guard case .bulkString = fields[0] else { return nil }
                var session = try Self.session(id, fields[0..<8])
                session.rotation = Self.rotation(fields[8..<12])
                Self.addDevice(fields[12], seen: fields[13], to: &session)
                guard session.isLive(at: now) else { return nil }
                if case let .rotatedTo(_, readableUntil) = session.rotation {
                    // Read-only in its grace window, and shown as ending with it.
                    guard session.isReadableFrozen(at: now) else { return nil }
                    session.expiresAt = min(readableUntil, session.expiresAt)
                }
                return session
            }
    }

    /// `HMGET <key> data permanent ...` with a placeholder key: made once, so that a read
    /// allocates one array for its command rather than a buffer per field name.
    private static let loadCommand: [ByteBuffer] = [
        "HMGET", "", "data", "permanent", "subject", "version", "created", "updated", "expires", "lifetime", "rotated", "grace",
        "pending", "from", "device", "seen",
    ].map { ByteBuffer(string: $0) }

    public func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        update(id, mutation, if: condition, at: now, grant: nil, attemptsLeft: 4, on: eventLoop)
    }

    /// Runs the update script; when it asks for index cover, grants it and runs again.
    private func update(
        _ id: SessionID, _ mutation: SessionMutation, if condition: WriteCondition, at now: Timestamp,
        grant: (Subject, Int64)?, attemptsLeft: Int, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        let handle = SessionHandle(id)
        var arguments = [
            Self.text(now.millisecondsSinceEpoch), ByteBuffer(string: ""), ByteBuffer(string: Self.conditionText(condition)),
            Self.text(policy.standard), Self.text(policy.permanent), Self.text(policy.absolute ?? -1),
            ByteBuffer(string: grant?.0.value ?? ""), Self.text(grant?.1 ?? 0),
        ]
        switch mutation {
        case let .replace(data, permanent, subject, lifetime, device):
            arguments[1] = ByteBuffer(string: "replace")
            arguments += [
                ByteBuffer(bytes: data), ByteBuffer(string: permanent ? "1" : "0"),
                ByteBuffer(string: subject == nil ? "n" : "s"), ByteBuffer(string: subject?.value ?? ""), Self.text(0),
            ]
            arguments += Self.lifetimeArguments(.set(lifetime))
            arguments += Self.deviceArguments(.set(device))
        case let .patch(patch):
            arguments[1] = ByteBuffer(string: "patch")
            let permanent = patch.permanent.map { $0 ? "1" : "0" } ?? ""
            let (mode, subject): (String, String)
            switch patch.subject {
            case .keep: (mode, subject) = ("k", "")
            case .set(nil): (mode, subject) = ("n", "")
            case let .set(.some(value)): (mode, subject) = ("s", value.value)
            }
            arguments += [
                ByteBuffer(bytes: patch.data ?? []), ByteBuffer(string: permanent), ByteBuffer(string: mode),
                ByteBuffer(string: subject), Self.text(Int64(patch.maxDataBytes)),
            ]
            arguments += Self.lifetimeArguments(patch.lifetime)
            arguments += Self.deviceArguments(patch.device)
        case .touch:
            arguments[1] = ByteBuffer(string: "touch")
            arguments += [ByteBuffer(), ByteBuffer(), ByteBuffer(string: "k"), ByteBuffer(), Self.text(0)]
            arguments += Self.lifetimeArguments(.keep)
            arguments += Self.deviceArguments(.keep)
        case let .confirm(original):
            arguments[1] = ByteBuffer(string: "confirm")
            arguments += [ByteBuffer(string: original.description), ByteBuffer(), ByteBuffer(string: "k"), ByteBuffer(), Self.text(0)]
            arguments += Self.lifetimeArguments(.keep)
            arguments += Self.deviceArguments(.keep)
        }
        let index = self.index
        let script: Int
        var sentData: [UInt8]?
        switch mutation {
        case let .replace(data, _, _, _, _):
            script = RedisScripts.replaceOrTouchIndex
            sentData = data
        case .touch, .confirm: script = RedisScripts.replaceOrTouchIndex
        case .patch: script = RedisScripts.updateIndex
        }
        let call = scriptKeys(handle, arguments)
        return pool.evaluate(script: script, keys: call.keys, arguments: call.arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMap { reply -> EventLoopFuture<UpdateOutcome> in
                guard case let .array(fields) = reply, let status = fields.first?.int else {
                    return eventLoop.makeFailedFuture(Self.unexpected(reply, "update"))
                }
                switch (status, fields.count) {
                case (0, _):
                    return eventLoop.makeSucceededFuture(.notFound)
                case (2, 2):
                    guard let version = fields[1].int else { break }
                    return eventLoop.makeSucceededFuture(.conflict(currentVersion: UInt64(version)))
                case (4, _):
                    return eventLoop.makeSucceededFuture(.dataTooLarge)
                case (5, _):
                    return eventLoop.makeSucceededFuture(.rotated)
                case (6, 2):
                    guard let original = fields[1].string.flatMap(SessionHandle.init) else { break }
                    return eventLoop.makeSucceededFuture(.pending(from: original))
                case (3, 3):
                    guard let name = fields[1].string, let subject = Subject(name), let expires = fields[2].int, attemptsLeft > 1 else { break }
                    return index.grant(handle, to: subject, until: expires, at: now, on: eventLoop).flatMap { score in
                        self.update(id, mutation, if: condition, at: now, grant: (subject, score), attemptsLeft: attemptsLeft - 1, on: eventLoop)
                    }
                case (1, 12):
                    do {
                        var session = try Self.session(id, fields[1...8])
                        session.rotation = fields[9].string.flatMap(SessionHandle.init).map { .rotatedFrom($0) }
                        Self.addDevice(fields[10], seen: fields[11], to: &session)
                        // A replace answers without the data: it is what was sent.
                        if let sentData { session.data = sentData }
                        return eventLoop.makeSucceededFuture(.updated(session))
                    } catch {
                        return eventLoop.makeFailedFuture(error)
                    }
                default:
                    break
                }
                return eventLoop.makeFailedFuture(Self.unexpected(reply, "update"))
            }
    }

    public func remove(
        _ id: SessionID, if condition: WriteCondition, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        remove(SessionHandle(id), condition: Self.conditionText(condition), subject: nil, event: .deleted, at: now, on: eventLoop)
    }

    public func remove(
        handle: SessionHandle, of subject: Subject, because reason: RemovalReason, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        remove(handle, condition: "*", subject: subject, event: reason.eventKind, at: now, on: eventLoop)
    }

    /// Runs the remove script, then drops the session's index entry (a failure there only
    /// leaves an entry that listings skip until its score passes).
    private func remove(
        _ handle: SessionHandle, condition: String, subject: Subject?, event: SessionEvent.Kind, at now: Timestamp,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RemoveOutcome> {
        let arguments = [Self.text(now), ByteBuffer(string: condition), ByteBuffer(string: subject?.value ?? ""), ByteBuffer(string: event.rawValue)]
        let call = scriptKeys(handle, arguments)
        return pool.evaluate(script: RedisScripts.removeIndex, keys: call.keys, arguments: call.arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMap { reply -> EventLoopFuture<RemoveOutcome> in
                guard case let .array(fields) = reply, let status = fields.first?.int else {
                    return eventLoop.makeFailedFuture(Self.unexpected(reply, "remove"))
                }
                switch (status, fields.count) {
                case (0, _):
                    return eventLoop.makeSucceededFuture(.notFound)
                case (2, 2):
                    guard let version = fields[1].int else { break }
                    return eventLoop.makeSucceededFuture(.conflict(currentVersion: UInt64(version)))
                case (5, _):
                    return eventLoop.makeSucceededFuture(.rotated)
                case (1, 4):
                    var dropped = self.dropIndexEntry(handle, fields[1], fields[2], at: now, on: eventLoop)
                        .and(self.dropLimitEntry(handle, fields[1], on: eventLoop)).map { _ in }
                    if let original = fields[3].string.flatMap(SessionHandle.init) {
                        dropped = dropped.flatMap { self.endWindow(of: original, successor: handle, at: now, on: eventLoop) }
                    }
                    return dropped.map { .removed }
                default:
                    break
                }
                return eventLoop.makeFailedFuture(Self.unexpected(reply, "remove"))
            }
    }

    public func sessions(of subject: Subject, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<[SessionSummary]> {
        let index = self.index
        let pool = self.pool
        return index.entries(of: subject, at: now, on: eventLoop).flatMap { entries in
            let reads = entries.map { handle, _ in
                let key = self.keyBuffer(handle)
                return pool.send(RedisCommand([
                    ByteBuffer(string: "HMGET"), key, ByteBuffer(string: "permanent"), ByteBuffer(string: "subject"),
                    ByteBuffer(string: "created"), ByteBuffer(string: "updated"), ByteBuffer(string: "expires"),
                    ByteBuffer(string: "rotated"), ByteBuffer(string: "pending"), ByteBuffer(string: "device"), ByteBuffer(string: "seen"),
                ]), key: key, on: eventLoop)
            }
            return EventLoopFuture.whenAllSucceed(reads, on: eventLoop)
                .flatMapErrorThrowing { throw Self.storeError($0) }
                .map { replies in
                    // Entries whose session is absent are left alone: an insert may be in
                    // flight behind its grant. They lapse when their score passes, and a delete
                    // removes its own entry.
                    var live: [SessionSummary] = []
                    for (entry, reply) in zip(entries, replies) {
                        guard case let .array(fields) = reply, fields.count == 9, fields[1].bytes == Array(subject.value.utf8),
                              let created = fields[2].int, let updated = fields[3].int, let expires = fields[4].int,
                              now.millisecondsSinceEpoch < expires
                        else { continue }
                        live.append(SessionSummary(
                            handle: entry.0, permanent: fields[0].string == "1", createdAt: Timestamp(millisecondsSinceEpoch: created),
                            updatedAt: Timestamp(millisecondsSinceEpoch: updated), expiresAt: Timestamp(millisecondsSinceEpoch: expires),
                            frozen: fields[5].bytes != nil, pending: fields[6].bytes != nil,
                            device: fields[7].bytes.flatMap { $0.isEmpty ? nil : $0 },
                            lastSeenAt: fields[8].int.map { Timestamp(millisecondsSinceEpoch: $0) }
                        ))
                    }
                    return live
                }
        }
    }

    public func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        pool.checkReady(on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
    }

    // MARK: - Replies

    /// The script arguments 16 and 17 for a change of the device object.
    private static func deviceArguments(_ change: MemberChange<[UInt8]>) -> [ByteBuffer] {
        switch change {
        case .keep: return [ByteBuffer(string: "k"), ByteBuffer()]
        case .set(nil): return [ByteBuffer(string: "n"), ByteBuffer()]
        case let .set(.some(device)): return [ByteBuffer(string: "s"), ByteBuffer(bytes: device)]
        }
    }

    /// Sets `device` and `lastSeenAt` from their fields (absent or "" for none; no `seen`: the
    /// last write).
    private static func addDevice(_ device: RESPValue, seen: RESPValue, to session: inout Session) {
        session.device = device.bytes.flatMap { $0.isEmpty ? nil : $0 }
        session.lastSeenAt = seen.int.map { Timestamp(millisecondsSinceEpoch: $0) } ?? session.updatedAt
    }

    /// The script arguments 14 and 15 for a change of the session's own lifetime.
    private static func lifetimeArguments(_ change: MemberChange<Int64>) -> [ByteBuffer] {
        switch change {
        case .keep: return [ByteBuffer(string: "k"), text(0)]
        case .set(nil): return [ByteBuffer(string: "n"), text(0)]
        case let .set(.some(lifetime)): return [ByteBuffer(string: "s"), text(lifetime)]
        }
    }

    /// A session from the eight fields data, permanent, subject, version, created, updated,
    /// expires, lifetime (as HMGET and the update script give them; lifetime nil or "" for none).
    private static func session(_ id: SessionID, _ fields: ArraySlice<RESPValue>) throws -> Session {
        let values = Array(fields)
        guard values.count == 8, case let .bulkString(data) = values[0], let version = values[3].int, version > 0,
              let created = values[4].int, let updated = values[5].int, let expires = values[6].int
        else { throw unexpected(.array(values), "session fields") }
        let subject = values[2].string.flatMap(Subject.init)
        let lifetime = values[7].int.flatMap { $0 > 0 ? $0 : nil }
        return Session(
            id: id, data: data, permanent: values[1].string == "1", subject: subject, lifetime: lifetime, version: UInt64(version),
            createdAt: Timestamp(millisecondsSinceEpoch: created), updatedAt: Timestamp(millisecondsSinceEpoch: updated),
            expiresAt: Timestamp(millisecondsSinceEpoch: expires)
        )
    }

    /// "*" for any version, else the accepted versions separated by commas ("" accepts none).
    private static func conditionText(_ condition: WriteCondition) -> String {
        switch condition {
        case .always: return "*"
        case let .versions(accepted): return accepted.map(String.init).joined(separator: ",")
        }
    }

    // MARK: - Errors

    /// Every client failure is a store failure: a timeout stays a timeout, the rest is
    /// "unavailable". Never "not found".
    static func storeError(_ error: any Error) -> SessionStoreError {
        if let storeError = error as? SessionStoreError { return storeError }
        guard let clientError = error as? RedisClientError else { return .unavailable("\(error)") }
        if clientError.code == .timeout { return .timeout(clientError.detail) }
        if clientError.code == .serverError { return refusal(clientError.detail) }
        return .unavailable(clientError.description)
    }

    /// An error reply of Redis as a refusal, named by its error code (the reply's first word).
    static func refusal(_ reply: String) -> SessionStoreError {
        switch reply.prefix { $0 != " " } {
        case "OOM":
            return .refused(.outOfMemory, "Redis is out of memory (maxmemory reached; with the noeviction policy it refuses writes until memory is freed or maxmemory raised): \(reply)")
        case "READONLY":
            return .refused(.readOnly, "Redis answered as a read-only replica (a failover moved the master?): \(reply)")
        case "NOPERM", "NOAUTH", "WRONGPASS":
            return .refused(.noPermission, "Redis refused the command to this user (check its ACL: it needs the session commands and EVALSHA/EVAL): \(reply)")
        default:
            return .refused(.other, "Redis refused the command: \(reply)")
        }
    }

    static func unexpected(_ reply: RESPValue, _ command: String) -> SessionStoreError {
        .unavailable("unexpected reply to \(command) from Redis")
    }
}
