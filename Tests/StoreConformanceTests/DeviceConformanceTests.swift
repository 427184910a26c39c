import NIOCore
import NIOPosix
import SessionCore
import Testing

/// Device metadata and `lastSeenAt` on every store.
@Suite("Store conformance: device and last seen")
struct DeviceConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy()

    private func service(_ kind: StoreUnderTest) -> SessionService {
        SessionService(store: kind.make(policy: policy, clock: clock), policy: policy, clock: clock)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func theDeviceIsKeptApartAndLastSeenFollowsWritesAndTouches(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let device = Array(#"{"ua":"Firefox","ip":"192.0.2.7"}"#.utf8)
        let created = try await service.create(data: Array(#"{"a":1}"#.utf8), permanent: false, subject: subject, device: device, on: loop).get()
        #expect(created.device == device && created.lastSeenAt == created.createdAt)
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get() == created)
        clock.advance(milliseconds: 1000)
        // A touch: last seen moves, updated does not.
        guard case let .updated(touched) = try await service.update(created.id, .touch, on: loop).get() else {
            Issue.record("no touch")
            return
        }
        #expect(touched.lastSeenAt == clock.now() && touched.updatedAt == created.updatedAt && touched.device == device)
        #expect(try await service.read(created.id, at: clock.now(), on: loop).get() == touched)
        let listed = try #require(try await service.sessions(of: subject, on: loop).get().first)
        #expect(listed.device == device && listed.lastSeenAt == clock.now())
        clock.advance(milliseconds: 1000)
        // A patch of data keeps the device; a patch of the device replaces it whole.
        let other = Array(#"{"name":"laptop"}"#.utf8)
        var patch = SessionPatch(data: Array(#"{"b":2}"#.utf8), permanent: nil, subject: .keep, maxDataBytes: 65_536)
        guard case let .updated(patched) = try await service.update(created.id, .patch(patch), on: loop).get() else {
            Issue.record("no patch")
            return
        }
        #expect(patched.device == device && patched.lastSeenAt == clock.now() && patched.data == Array(#"{"a":1,"b":2}"#.utf8))
        patch = SessionPatch(data: nil, permanent: nil, subject: .keep, maxDataBytes: 65_536, device: .set(other))
        guard case let .updated(renamed) = try await service.update(created.id, .patch(patch), on: loop).get() else {
            Issue.record("no patch")
            return
        }
        #expect(renamed.device == other)
        // A rotation keeps it; a PUT without it clears it.
        guard case let .rotated(moved) = try await service.rotate(created.id, on: loop).get() else {
            Issue.record("no rotation")
            return
        }
        #expect(moved.device == other && moved.lastSeenAt == clock.now())
        #expect(try await service.read(moved.id, at: clock.now(), on: loop).get()?.device == other)
        let replaced = try await service.update(moved.id, .replace(data: Array("{}".utf8), permanent: false, subject: subject, lifetime: nil), on: loop).get()
        guard case let .updated(cleared) = replaced else {
            Issue.record("no replace")
            return
        }
        #expect(cleared.device == nil)
        #expect(try await service.read(moved.id, at: clock.now(), on: loop).get()?.device == nil)
    }
}
