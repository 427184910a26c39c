import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisClient
import RedisStore
import RedisTestSupport
import SessionCore
import Testing

/// What the Redis store does when Redis misbehaves: each test has its own redis-server.
@Suite("Redis store under failure", .serialized)
struct RedisFailureTests {
    let group = MultiThreadedEventLoopGroup.singleton
    let policy = LifetimePolicy()
    let clock = SystemClock()

    private func makeStore(_ server: RedisTestServer, timeout: TimeAmount = .milliseconds(300)) throws -> RedisStore {
        var configuration = try #require(RedisConfiguration(url: server.url))
        configuration.commandTimeout = timeout
        configuration.connectTimeout = timeout
        configuration.maxBackoff = .milliseconds(200)
        return RedisStore(configuration: configuration, policy: policy, group: group, logger: Logger(label: "test.redis"))
    }

    private func newSession() -> Session {
        let now = clock.now()
        return Session(
            id: .random(), data: Array(#"{"n":1}"#.utf8), permanent: false, version: 1, createdAt: now, updatedAt: now,
            expiresAt: policy.expiry(createdAt: now, now: now, permanent: false)
        )
    }

    /// Keeps Redis busy (DEBUG SLEEP) from a connection of its own, and returns once Redis is
    /// asleep (a third connection's PING goes unanswered); the future completes when Redis
    /// answers again. Returns the admin store too, to be closed by the test.
    private func blockRedis(_ server: RedisTestServer, seconds: String) async throws -> (RedisStore, EventLoopFuture<RESPValue>) {
        let admin = try makeStore(server, timeout: .seconds(5))
        let loop = group.next()
        // Connected first, so that DEBUG SLEEP leaves at once rather than after a handshake.
        try await admin.checkReady(on: loop).get()
        let sleeping = admin.pool.send(RedisCommand("DEBUG", "SLEEP", seconds), on: loop)
        let probe = try makeStore(server, timeout: .milliseconds(50))
        for _ in 0..<100 {
            if (try? await probe.checkReady(on: loop).get()) == nil { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        await probe.pool.close()
        return (admin, sleeping)
    }

    /// Polls `checkReady` for up to 2.5 s; whether the store became ready.
    private func waitUntilReady(_ store: RedisStore, on loop: any EventLoop) async -> Bool {
        for _ in 0..<50 {
            if (try? await store.checkReady(on: loop).get()) != nil { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// A failure that must be a store failure, never an answer.
    private func expectStoreFailure<T>(_ future: EventLoopFuture<T>, _ comment: Comment? = nil) async {
        do {
            let value = try await future.get()
            Issue.record("expected a store failure, got \(value)")
        } catch let error as SessionStoreError {
            #expect(error.isTransient, comment)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func killedAndRestartedUnderLoad() async throws {
        let server = try RedisTestServer()
        // 1 s, not 300 ms: this test is about a dead Redis, not a slow one, and a loaded machine
        // running the whole suite can take 300 ms to answer a live one.
        let store = try makeStore(server, timeout: .seconds(1))
        let known = newSession()
        // Connected first on every loop: with a 300 ms connect timeout, the whole suite starting
        // at once on 2 cores can leave the first connection late.
        for loop in group.makeIterator() {
            #expect(await waitUntilReady(store, on: loop))
        }
        try await store.insert(known, on: group.next()).get()

        // Load: 8 workers reading and writing until told to stop.
        let stop = NIOLockedValueBox(false)
        let results = try await withThrowingTaskGroup(of: (ok: Int, unavailable: Int, wrong: Int).self) { tasks in
            for _ in 0..<8 {
                tasks.addTask {
                    var tally = (ok: 0, unavailable: 0, wrong: 0)
                    while !stop.withLockedValue({ $0 }) {
                        do {
                            let session = self.newSession()
                            try await store.insert(session, on: self.group.next()).get()
                            let read = try await store.load(session.id, at: self.clock.now(), on: self.group.next()).get()
                            if read == session { tally.ok += 1 } else { tally.wrong += 1 }
                        } catch let error as SessionStoreError where error.isTransient {
                            tally.unavailable += 1
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    return tally
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            server.kill()
            // While Redis is down: failures, never "not found".
            await expectStoreFailure(store.load(known.id, at: clock.now(), on: group.next()), "read while down")
            await expectStoreFailure(store.update(known.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), if: .always, at: clock.now(), on: group.next()))
            await expectStoreFailure(store.checkReady(on: group.next()))
            try await Task.sleep(for: .milliseconds(300))
            try server.start()
            // Service resumes by itself (the pool reconnects after its backoff), on every loop:
            // each loop's pool backs off on its own clock.
            for loop in group.makeIterator() {
                #expect(await waitUntilReady(store, on: loop))
            }
            try await Task.sleep(for: .milliseconds(300))
            stop.withLockedValue { $0 = true }
            var total = (ok: 0, unavailable: 0, wrong: 0)
            for try await tally in tasks {
                total.ok += tally.ok
                total.unavailable += tally.unavailable
                total.wrong += tally.wrong
            }
            return total
        }
        #expect(results.wrong == 0)
        #expect(results.unavailable > 0)
        #expect(results.ok > 0)
        // Correct answers after the restart on every loop's connection. (With a 300 ms command
        // timeout a loaded machine may time a command out, which closes its connection and
        // backs off again: each loop gets its 2.5 s to be ready first.)
        for loop in group.makeIterator() {
            #expect(await waitUntilReady(store, on: loop))
            let session = newSession()
            try await store.insert(session, on: loop).get()
            #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == session)
        }
        await store.pool.close()
        server.stop()
    }

    @Test func aConnectionResetMidPipelineFailsPendingCommandsThenRecovers() async throws {
        let server = try RedisTestServer()
        let store = try makeStore(server, timeout: .seconds(6))
        let loop = group.next()
        try await store.checkReady(on: loop).get()
        // Park our connection on a blocking BLPOP, so that the reads behind it stay in flight
        // (Redis does not run them until the BLPOP ends), then kill the connection from another
        // one. The BLPOP lasts 5 s, well past the kill even on a loaded machine.
        let parked = store.pool.send(RedisCommand("BLPOP", "nothing-here", "5"), on: loop)
        let inFlight = (0..<20).map { _ in store.load(.random(), at: clock.now(), on: loop) }
        try await Task.sleep(for: .milliseconds(100))
        let admin = try makeStore(server, timeout: .seconds(5))
        _ = try await admin.pool.send(RedisCommand("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"), on: group.next()).get()
        _ = try? await parked.get()
        var failed = 0
        for future in inFlight {
            do { _ = try await future.get() } catch let error as SessionStoreError where error.isTransient { failed += 1 }
        }
        #expect(failed == 20, "every command in flight on the killed connection fails")
        // The next commands reconnect and succeed.
        #expect(await waitUntilReady(store, on: loop))
        let session = newSession()
        try await store.insert(session, on: loop).get()
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == session)
        await store.pool.close()
        await admin.pool.close()
        server.stop()
    }

    @Test func aSlowReplyPastTheTimeoutIsATimeoutNotAHang() async throws {
        let server = try RedisTestServer()
        let store = try makeStore(server, timeout: .milliseconds(200))
        let loop = group.next()
        #expect(await waitUntilReady(store, on: loop))
        let (admin, sleeping) = try await blockRedis(server, seconds: "1")
        let started = ContinuousClock.now
        do {
            _ = try await store.load(.random(), at: clock.now(), on: loop).get()
            Issue.record("a read succeeded while Redis was asleep")
        } catch let error as SessionStoreError {
            #expect(error.code == .timeout)
        }
        let waited = ContinuousClock.now - started
        #expect(waited < .milliseconds(700), "failed after \(waited)")
        _ = try await sleeping.get()
        // The timed-out connection was dropped: the pool reconnects after its backoff.
        #expect(await waitUntilReady(store, on: loop))
        let session = newSession()
        try await store.insert(session, on: loop).get()
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == session)
        await store.pool.close()
        await admin.pool.close()
        server.stop()
    }

    @Test func sessionsLiveInRedisUnderThePrefixWithTheirExpiry() async throws {
        let server = try RedisTestServer()
        let store = try makeStore(server)
        let loop = group.next()
        let session = newSession()
        try await store.insert(session, on: loop).get()
        let key = store.key(for: session.handle)
        #expect(key == "sessiond:\(SessionHandle(session.id))")
        // The sid itself is nowhere in Redis: not in a key, not in a value.
        let keys = try await store.pool.send(RedisCommand("KEYS", "*"), on: loop).get()
        let values = try await store.pool.send(RedisCommand("HGETALL", key), on: loop).get()
        func texts(_ reply: RESPValue) -> [String] {
            if case let .array(items) = reply { return items.compactMap(\.string) }
            return []
        }
        let stored = texts(keys) + texts(values)
        #expect(stored.contains(key))
        #expect(stored.contains(#"{"n":1}"#))
        #expect(!stored.contains { $0.contains(session.id.description) })
        let expiry = try await store.pool.send(RedisCommand("PEXPIRETIME", key), on: loop).get()
        #expect(expiry.int == session.expiresAt.millisecondsSinceEpoch)
        let type = try await store.pool.send(RedisCommand("TYPE", key), on: loop).get()
        #expect(type == .simpleString("hash"))
        #expect(try await store.remove(session.id, if: .always, at: clock.now(), on: loop).get() == .removed)
        let exists = try await store.pool.send(RedisCommand("EXISTS", key), on: loop).get()
        #expect(exists == .integer(0))
        await store.pool.close()
        server.stop()
    }

    @Test func aSlotInBackoffLeavesTheWorkToTheLoopsOtherConnection() async throws {
        // Room for one connection only: the second slot of the loop cannot connect.
        let server = try RedisTestServer(arguments: ["--maxclients", "1"])
        let oneLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = try #require(RedisConfiguration(url: server.url))
        configuration.connectionsPerLoop = 2
        configuration.maxBackoff = .seconds(2)
        let store = RedisStore(configuration: configuration, policy: policy, group: oneLoop, logger: Logger(label: "test.redis"))
        let loop = oneLoop.next()
        var failures = 0
        for _ in 0..<20 {
            do { _ = try await store.load(.random(), at: clock.now(), on: loop).get() } catch { failures += 1 }
        }
        // The first attempt of the second slot fails; after that its turns go to the first slot.
        #expect(failures <= 1, "\(failures) of 20 reads failed")
        await store.pool.close()
        server.stop()
        try await oneLoop.shutdownGracefully()
    }

    @Test func unreachableRedisFailsFastWithUnavailable() async throws {
        let server = try RedisTestServer()
        server.stop()
        let store = try makeStore(server)
        let started = ContinuousClock.now
        await expectStoreFailure(store.load(.random(), at: clock.now(), on: group.next()))
        await expectStoreFailure(store.insert(newSession(), on: group.next()))
        #expect(ContinuousClock.now - started < .seconds(1))
        await store.pool.close()
    }
}

