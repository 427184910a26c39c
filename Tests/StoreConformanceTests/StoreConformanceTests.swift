import DurableStore
import Logging
import NIOCore
import NIOPosix
import RedisClient
import RedisStore
import RedisTLS
import RedisTestSupport
import SessionCore
import Testing

/// The behaviour every `SessionStore` must have, run against each implementation: the embedded
/// store, the embedded store made durable (a data directory of its own per test, `--fsync
/// always`), and the Redis store on a real redis-server that the tests start.
enum StoreUnderTest: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case durable
    case redis
    /// Redis over TLS (`rediss://`), verified against a test CA.
    case redisTLS = "redis-tls"
    /// A Redis Cluster of 3 primaries and 3 replicas.
    case redisCluster = "redis-cluster"

    var testDescription: String { rawValue }

    func make(policy: LifetimePolicy, clock: ManualClock) -> any SessionStore {
        switch self {
        case .memory:
            return MemoryStore(policy: policy, clock: clock, configuration: .init(eventHistory: Self.eventHistory))
        case .durable:
            do {
                let storage = try DurableStorage(path: temporaryDirectory(), policy: .always, clock: clock)
                let store = MemoryStore(
                    policy: policy, clock: clock, configuration: .init(eventHistory: Self.eventHistory), journal: storage.journal(for: "")
                )
                storage.attach(store, namespace: "")
                return store
            } catch {
                fatalError("cannot open a data directory for the test: \(error)")
            }
        case .redis:
            let server = RedisTestServer.shared
            var configuration = RedisConfiguration(url: server.url) ?? RedisConfiguration()
            configuration.commandTimeout = .seconds(5)
            // Every test makes its own pool, all at once: on 2 loaded cores a handshake may take
            // more than the default second.
            configuration.connectTimeout = .seconds(5)
            return RedisStore(
                configuration: configuration, prefix: "conformance:\(SessionID.random()):", policy: policy,
                eventHistory: Self.eventHistory, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test.redis")
            )
        case .redisCluster:
            var configuration = RedisConfiguration()
            configuration.cluster = RedisClusterConfiguration(seeds: RedisClusterConfiguration.seeds(RedisTestCluster.shared.seeds) ?? [])
            configuration.commandTimeout = .seconds(5)
            // Every test makes its own pool, all at once: on 2 loaded cores a handshake may take
            // more than the default second.
            configuration.connectTimeout = .seconds(5)
            return RedisStore(
                configuration: configuration, prefix: "conformance:\(SessionID.random()):", policy: policy,
                group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test.redis-cluster")
            )
        case .redisTLS:
            let (server, certificates) = Self.sharedTLS
            var configuration = RedisConfiguration(url: server.url) ?? RedisConfiguration()
            configuration.commandTimeout = .seconds(5)
            // Every test makes its own pool, all at once: on 2 loaded cores a handshake may take
            // more than the default second.
            configuration.connectTimeout = .seconds(5)
            do {
                let security = try RedisTLS(.init(caFile: certificates.caFile))
                return RedisStore(
                    configuration: configuration, security: security, prefix: "conformance:\(SessionID.random()):", policy: policy,
                    eventHistory: Self.eventHistory, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test.redis-tls")
                )
            } catch {
                fatalError("cannot set up TLS for the conformance tests: \(error)")
            }
        }
    }

    /// Every store records events (as sessiond does by default), except on a cluster, where it
    /// cannot: so the whole suite runs the scripts with their event half.
    static let eventHistory = 1000

    /// One TLS redis-server (and its certificates) for every test of this process.
    private static let sharedTLS: (RedisTestServer, TestCertificates) = {
        do {
            let certificates = try TestCertificates()
            return (try RedisTestServer(tls: certificates).killedAtExit(), certificates)
        } catch {
            fatalError("cannot start a TLS redis-server for the tests: \(error)")
        }
    }()
}

@Suite("Store conformance")
struct StoreConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    /// Starts at the real time: Redis expires keys by its own clock, so test times must not lie
    /// in the past.
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(permanent: 31 * 86_400_000, standard: 86_400_000, absolute: nil)

    private func newSession(permanent: Bool = false, data: String = #"{"user":42}"#) -> Session {
        let now = clock.now()
        return Session(
            id: .random(), data: Array(data.utf8), permanent: permanent, version: 1, createdAt: now, updatedAt: now,
            expiresAt: policy.expiry(createdAt: now, now: now, permanent: permanent)
        )
    }

    @Test(arguments: StoreUnderTest.allCases)
    func insertedSessionsReadBackExactly(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = newSession(data: #"{"a":[1,2.5,"x"],"b":{"c":null}}"#)
        try await store.insert(session, on: loop).get()
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == session)
        #expect(try await store.load(.random(), at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aLiveIdCannotBeInsertedTwice(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = newSession()
        try await store.insert(session, on: loop).get()
        await #expect(throws: SessionStoreError.duplicateID) { try await store.insert(session, on: loop).get() }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func expiryHoldsToTheMillisecond(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = newSession()
        try await store.insert(session, on: loop).get()
        let lastLiveInstant = session.expiresAt.adding(milliseconds: -1)
        #expect(try await store.load(session.id, at: lastLiveInstant, on: loop).get() == session)
        #expect(try await store.load(session.id, at: session.expiresAt, on: loop).get() == nil)
        let outcome = try await store.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), if: .always, at: session.expiresAt, on: loop).get()
        #expect(outcome == .notFound)
        #expect(try await store.remove(session.id, if: .always, at: session.expiresAt, on: loop).get() == .notFound)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func updateReplacesBumpsTheVersionAndSlidesTheExpiry(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = newSession()
        try await store.insert(session, on: loop).get()
        clock.advance(milliseconds: 5000)
        let now = clock.now()
        let outcome = try await store.update(session.id, .replace(data: Array(#"{"n":1}"#.utf8), permanent: true, subject: nil, lifetime: nil), if: .always, at: now, on: loop).get()
        guard case let .updated(updated) = outcome else {
            Issue.record("expected an update, got \(outcome)")
            return
        }
        #expect(updated.id == session.id)
        #expect(updated.data == Array(#"{"n":1}"#.utf8))
        #expect(updated.permanent)
        #expect(updated.version == 2)
        #expect(updated.createdAt == session.createdAt)
        #expect(updated.updatedAt == now)
        #expect(updated.expiresAt == now.adding(milliseconds: policy.permanent))
        #expect(try await store.load(session.id, at: now, on: loop).get() == updated)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func updateNeverCreates(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let id = SessionID.random()
        let outcome = try await store.update(id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), if: .always, at: clock.now(), on: loop).get()
        #expect(outcome == .notFound)
        #expect(try await store.load(id, at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func removedSessionsStayRemoved(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = newSession()
        try await store.insert(session, on: loop).get()
        #expect(try await store.remove(session.id, if: .always, at: clock.now(), on: loop).get() == .removed)
        #expect(try await store.remove(session.id, if: .always, at: clock.now(), on: loop).get() == .notFound)
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == nil)
        let late = try await store.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), if: .always, at: clock.now(), on: loop).get()
        #expect(late == .notFound)
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func absoluteLifetimeCapsUpdates(kind: StoreUnderTest) async throws {
        let capped = LifetimePolicy(permanent: 100_000, standard: 10_000, absolute: 15_000)
        let store = kind.make(policy: capped, clock: clock)
        let start = clock.now()
        let session = Session(
            id: .random(), data: Array("{}".utf8), permanent: false, version: 1, createdAt: start, updatedAt: start,
            expiresAt: capped.expiry(createdAt: start, now: start, permanent: false)
        )
        try await store.insert(session, on: loop).get()
        clock.advance(milliseconds: 9000)
        let outcome = try await store.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), if: .always, at: clock.now(), on: loop).get()
        guard case let .updated(updated) = outcome else {
            Issue.record("expected an update, got \(outcome)")
            return
        }
        #expect(updated.expiresAt == start.adding(milliseconds: 15_000))
        #expect(try await store.load(session.id, at: start.adding(milliseconds: 15_000), on: loop).get() == nil)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func concurrentUpdatesAreAtomic(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = newSession()
        try await store.insert(session, on: loop).get()
        let group = MultiThreadedEventLoopGroup.singleton
        let now = clock.now()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<200 {
                tasks.addTask {
                    let data = Array(#"{"writer":\#(index)}"#.utf8)
                    _ = try await store.update(session.id, .replace(data: data, permanent: false, subject: nil, lifetime: nil), if: .always, at: now, on: group.next()).get()
                }
            }
            try await tasks.waitForAll()
        }
        let final = try await store.load(session.id, at: now, on: loop).get()
        #expect(final?.version == 201)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aReplaceRacingADeleteNeverBringsTheSessionBack(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let group = MultiThreadedEventLoopGroup.singleton
        let now = clock.now()
        for _ in 0..<50 {
            let session = newSession()
            try await store.insert(session, on: loop).get()
            async let replaced = store.update(session.id, .replace(data: Array(#"{"late":true}"#.utf8), permanent: false, subject: nil, lifetime: nil), if: .always, at: now, on: group.next()).get()
            async let removed = store.remove(session.id, if: .always, at: now, on: group.next()).get()
            _ = try await (replaced, removed)
            #expect(try await store.load(session.id, at: now, on: loop).get() == nil)
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func storeIsReady(kind: StoreUnderTest) async throws {
        try await kind.make(policy: policy, clock: clock).checkReady(on: loop).get()
    }
}
