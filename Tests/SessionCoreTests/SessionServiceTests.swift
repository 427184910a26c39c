import NIOCore
import NIOPosix
import SessionCore
import Testing

@Suite("Session service")
struct SessionServiceTests {
    let clock = ManualClock()
    let policy = LifetimePolicy()
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func createStampsVersionTimesAndLifetime() async throws {
        let service = SessionService(store: MemoryStore(policy: policy, clock: clock), policy: policy, clock: clock)
        let now = clock.now()
        let standard = try await service.create(data: Array(#"{"a":1}"#.utf8), permanent: false, on: loop).get()
        #expect(standard.version == 1)
        #expect(standard.createdAt == now && standard.updatedAt == now)
        #expect(standard.expiresAt == now.adding(milliseconds: 86_400_000))
        #expect(standard.ttlSeconds(at: now) == 86_400)
        let permanent = try await service.create(data: Array("{}".utf8), permanent: true, on: loop).get()
        #expect(permanent.ttlSeconds(at: now) == 31 * 86_400)
        #expect(permanent.id != standard.id)
        #expect(try await service.read(standard.id, at: clock.now(), on: loop).get() == standard)
    }

    @Test func replaceAndDeleteGoThroughTheStore() async throws {
        let service = SessionService(store: MemoryStore(policy: policy, clock: clock), policy: policy, clock: clock)
        let session = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        clock.advance(milliseconds: 1500)
        let outcome = try await service.update(session.id, .replace(data: Array(#"{"b":2}"#.utf8), permanent: false, subject: nil, lifetime: nil), on: loop).get()
        guard case let .updated(updated) = outcome else {
            Issue.record("expected an update")
            return
        }
        #expect(updated.version == 2)
        #expect(updated.expiresAt == clock.now().adding(milliseconds: 86_400_000))
        #expect(try await service.delete(session.id, on: loop).get() == .removed)
        #expect(try await service.delete(session.id, on: loop).get() == .notFound)
        #expect(try await service.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil), on: loop).get() == .notFound)
    }

    @Test func aFullStoreRefusesCreatesButNotRotations() async throws {
        let store = MemoryStore(policy: policy, clock: clock, configuration: .init(maxSessions: 1))
        let service = SessionService(store: store, policy: policy, clock: clock)
        let session = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        await #expect(throws: SessionStoreError.full("")) {
            try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        }
        guard case let .rotated(new) = try await service.rotate(session.id, on: loop).get() else {
            Issue.record("a full store refused a rotation")
            return
        }
        // The new session, and the original's data-less marker (which a retried rotate reads).
        #expect(store.storedCount == 2)
        _ = try await service.delete(new.id, on: loop).get()
        // Deleting the new session removed the marker too.
        #expect(store.storedCount == 0)
        _ = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
    }
}
