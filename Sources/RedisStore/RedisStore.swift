import Logging
import NIOCore
import RedisClient
import SessionCore

/// `SessionStore` on Redis: one hash per session under `prefix + sid`, expiring in Redis at the
/// session's expiry, so Redis drops expired sessions itself and memory stays bounded.
///
/// Reads are one HMGET; writes are one Lua script (EVALSHA) that Redis runs atomically and that
/// touches one key only. Every call answers on the caller's event loop, through that loop's own
/// connections. A Redis that is down or slow fails calls with `SessionStoreError.unavailable` or
/// `.timeout` within the command timeout: never "not found", never a hang.
public final class RedisStore: SessionStore {
    /// The connections; run it as a `Service` so that it closes on shutdown.
    public let pool: RedisConnectionPool
    public let policy: LifetimePolicy
    private let prefix: String

    public init(
        configuration: RedisConfiguration, prefix: String = "sessiond:", policy: LifetimePolicy,
        group: any EventLoopGroup, logger: Logger
    ) {
        self.pool = RedisConnectionPool(configuration: configuration, group: group, scripts: RedisScripts.all, logger: logger)
        self.prefix = prefix
        self.policy = policy
    }

    /// The Redis key of a session.
    public func key(for id: SessionID) -> String { prefix + id.description }

    private func keyBuffer(_ id: SessionID) -> ByteBuffer { ByteBuffer(string: key(for: id)) }

    // MARK: - SessionStore

    public func insert(_ session: Session, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let arguments = [
            ByteBuffer(bytes: session.data), ByteBuffer(string: session.permanent ? "1" : "0"),
            ByteBuffer(string: String(session.createdAt.millisecondsSinceEpoch)),
            ByteBuffer(string: String(session.expiresAt.millisecondsSinceEpoch)),
        ]
        return pool.evaluate(script: RedisScripts.insertIndex, keys: [keyBuffer(session.id)], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard let stored = reply.int else { throw Self.unexpected(reply, "insert") }
                if stored == 0 { throw SessionStoreError.duplicateID }
            }
    }

    public func load(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Session?> {
        let command = RedisCommand([
            ByteBuffer(string: "HMGET"), keyBuffer(id), ByteBuffer(string: "data"), ByteBuffer(string: "permanent"),
            ByteBuffer(string: "version"), ByteBuffer(string: "created"), ByteBuffer(string: "updated"), ByteBuffer(string: "expires"),
        ])
        return pool.send(command, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard case let .array(fields) = reply, fields.count == 6 else { throw Self.unexpected(reply, "HMGET") }
                guard case let .bulkString(data) = fields[0] else { return nil }
                guard let version = fields[2].int, let created = fields[3].int, let updated = fields[4].int, let expires = fields[5].int,
                      version > 0
                else { throw Self.unexpected(reply, "HMGET") }
                let session = Session(
                    id: id, data: data, permanent: fields[1].string == "1", version: UInt64(version),
                    createdAt: Timestamp(millisecondsSinceEpoch: created), updatedAt: Timestamp(millisecondsSinceEpoch: updated),
                    expiresAt: Timestamp(millisecondsSinceEpoch: expires)
                )
                return session.isLive(at: now) ? session : nil
            }
    }

    public func update(
        _ id: SessionID, _ mutation: SessionMutation, at now: Timestamp, on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpdateOutcome> {
        let data: [UInt8]
        let permanent: Bool
        switch mutation {
        case let .replace(newData, newPermanent): (data, permanent) = (newData, newPermanent)
        }
        let arguments = [
            ByteBuffer(string: String(now.millisecondsSinceEpoch)), ByteBuffer(bytes: data), ByteBuffer(string: permanent ? "1" : "0"),
            ByteBuffer(string: String(policy.standard)), ByteBuffer(string: String(policy.permanent)),
            ByteBuffer(string: String(policy.absolute ?? -1)),
        ]
        return pool.evaluate(script: RedisScripts.replaceIndex, keys: [keyBuffer(id)], arguments: arguments, on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                if reply == .null { return .notFound }
                guard case let .array(fields) = reply, fields.count == 3, let version = fields[0].int, let created = fields[1].int,
                      let expires = fields[2].int
                else { throw Self.unexpected(reply, "replace") }
                return .updated(Session(
                    id: id, data: data, permanent: permanent, version: UInt64(version),
                    createdAt: Timestamp(millisecondsSinceEpoch: created), updatedAt: now,
                    expiresAt: Timestamp(millisecondsSinceEpoch: expires)
                ))
            }
    }

    public func remove(_ id: SessionID, at now: Timestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        pool.send(RedisCommand([ByteBuffer(string: "DEL"), keyBuffer(id)]), on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .flatMapThrowing { reply in
                guard let removed = reply.int else { throw Self.unexpected(reply, "DEL") }
                return removed > 0
            }
    }

    public func checkReady(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        pool.send(RedisCommand("PING"), on: eventLoop)
            .flatMapErrorThrowing { throw Self.storeError($0) }
            .map { _ in }
    }

    // MARK: - Errors

    /// Every client failure is a store failure: a timeout stays a timeout, the rest is
    /// "unavailable". Never "not found".
    static func storeError(_ error: any Error) -> SessionStoreError {
        if let storeError = error as? SessionStoreError { return storeError }
        guard let clientError = error as? RedisClientError else { return .unavailable("\(error)") }
        if clientError == .timeout("") { return .timeout(clientError.detail) }
        return .unavailable(clientError.description)
    }

    private static func unexpected(_ reply: RESPValue, _ command: String) -> SessionStoreError {
        .unavailable("unexpected reply to \(command) from Redis")
    }
}
