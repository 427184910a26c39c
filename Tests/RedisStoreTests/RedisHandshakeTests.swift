import Logging
import NIOCore
import NIOPosix
import RedisClient
import RedisStore
import RedisTestSupport
import SessionCore
import Testing

@Suite("Connecting: AUTH, ACL users, SELECT", .serialized)
struct RedisHandshakeTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let policy = LifetimePolicy()

    private func store(_ url: String) throws -> RedisStore {
        var configuration = try #require(RedisConfiguration(url: url))
        configuration.commandTimeout = .seconds(5)   // generous: these tests are about the handshake, not timing
        return RedisStore(configuration: configuration, policy: policy, group: group, logger: Logger(label: "test.redis"))
    }

    private func roundTrip(_ store: RedisStore) async throws -> Session {
        let now = SystemClock().now()
        let session = Session(
            id: .random(), data: Array("{}".utf8), permanent: false, version: 1, createdAt: now, updatedAt: now,
            expiresAt: policy.expiry(createdAt: now, now: now, permanent: false)
        )
        let loop = group.next()
        try await store.insert(session, on: loop).get()
        #expect(try await store.load(session.id, at: now, on: loop).get() == session)
        return session
    }

    @Test func passwordAndDatabase() async throws {
        let server = try RedisTestServer(arguments: ["--requirepass", "s3cret:pass"])
        defer { server.stop() }
        let good = try store("redis://:s3cret%3Apass@127.0.0.1:\(server.port)/3")
        let session = try await roundTrip(good)
        // The key is in database 3, not 0.
        let inThree = try await good.pool.send(RedisCommand("EXISTS", good.key(for: session.handle)), on: group.next()).get()
        #expect(inThree == .integer(1))
        let zero = try store("redis://:s3cret%3Apass@127.0.0.1:\(server.port)/0")
        let inZero = try await zero.pool.send(RedisCommand("EXISTS", good.key(for: session.handle)), on: group.next()).get()
        #expect(inZero == .integer(0))
        await good.pool.close()
        await zero.pool.close()
    }

    @Test func aclUser() async throws {
        let server = try RedisTestServer(arguments: ["--user", "app", "on", ">apppass", "~sessiond:*", "+@all", "--user", "default", "off"])
        defer { server.stop() }
        let app = try store("redis://app:apppass@127.0.0.1:\(server.port)/0")
        _ = try await roundTrip(app)
        await app.pool.close()
    }

    @Test func anACLUserWithoutScriptLoadWorks() async throws {
        // Every command but SCRIPT (LOAD, FLUSH, ...): sessiond must not need it.
        let server = try RedisTestServer(arguments: [
            "--user", "app", "on", ">apppass", "~sessiond:*", "+@all", "-script", "--user", "default", "off",
        ])
        defer { server.stop() }
        let app = try store("redis://app:apppass@127.0.0.1:\(server.port)/0")
        // Twice: the first EVALSHA finds no script (NOSCRIPT) and EVAL runs it; the second finds it.
        _ = try await roundTrip(app)
        _ = try await roundTrip(app)
        await app.pool.close()
    }

    @Test func aWrongPasswordIsUnavailableNeverNotFound() async throws {
        let server = try RedisTestServer(arguments: ["--requirepass", "right"])
        defer { server.stop() }
        let wrong = try store("redis://:wrong@127.0.0.1:\(server.port)/0")
        do {
            _ = try await wrong.load(.random(), at: SystemClock().now(), on: group.next()).get()
            Issue.record("a load succeeded with a wrong password")
        } catch let error as SessionStoreError {
            #expect(error.isTransient)
            #expect(error.detail.contains("WRONGPASS") || error.detail.contains("invalid"), "\(error.detail)")
        }
        await wrong.pool.close()
    }
}
