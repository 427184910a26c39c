import NIOCore
import NIOPosix
import SessionCore
import Testing

/// Rotation through `SessionService` on every store.
@Suite("Store conformance: rotate")
struct RotateConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy()

    private func service(_ kind: StoreUnderTest) -> SessionService {
        SessionService(store: kind.make(policy: policy, clock: clock), policy: policy, clock: clock)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func rotateMovesEverythingToANewSid(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let subject = try #require(Subject("user-\(SessionID.random())"))
        let old = try await service.create(data: Array(#"{"cart":[1,2]}"#.utf8), permanent: true, subject: subject, on: loop).get()
        clock.advance(milliseconds: 2000)
        guard case let .rotated(new) = try await service.rotate(old.id, on: loop).get() else {
            Issue.record("expected a rotation")
            return
        }
        #expect(new.id != old.id)
        #expect(new.data == old.data)
        #expect(new.permanent && new.subject == subject)
        #expect(new.createdAt == old.createdAt)
        #expect(new.updatedAt == clock.now())
        #expect(new.version == old.version + 1)
        #expect(new.expiresAt == clock.now().adding(milliseconds: policy.permanent))
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        #expect(try await service.read(new.id, at: clock.now(), on: loop).get() == new)
        #expect(try await service.update(old.id, .touch, on: loop).get() == .notFound)
        #expect(try await service.sessions(of: subject, on: loop).get().map(\.handle) == [new.handle])
        #expect(try await service.rotate(old.id, on: loop).get() == .notFound)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func rotateHonoursTheCondition(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let old = try await service.create(data: Array("{}".utf8), permanent: false, on: loop).get()
        #expect(try await service.rotate(old.id, if: .versions([9]), on: loop).get() == .conflict(currentVersion: 1))
        #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == old)
        guard case .rotated = try await service.rotate(old.id, if: .versions([1]), on: loop).get() else {
            Issue.record("expected a rotation")
            return
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aRotateRacingAWriteLosesNothing(kind: StoreUnderTest) async throws {
        let service = service(kind)
        let group = MultiThreadedEventLoopGroup.singleton
        for round in 0..<40 {
            let old = try await service.create(data: Array(#"{"round":\#(round)}"#.utf8), permanent: false, on: loop).get()
            async let rotation = service.rotate(old.id, on: group.next()).get()
            async let write = service.update(old.id, dataPatch(#"{"late":true}"#), on: group.next()).get()
            let (rotated, written) = try await (rotation, write)
            guard case let .rotated(new) = rotated else {
                Issue.record("round \(round): rotate gave \(rotated)")
                continue
            }
            let current = try #require(try await service.read(new.id, at: clock.now(), on: loop).get())
            switch written {
            case .updated:
                // The write landed before the rotation, so the new sid carries it.
                #expect(String(decoding: current.data, as: UTF8.self) == #"{"round":\#(round),"late":true}"#, "round \(round)")
            case .notFound:
                #expect(String(decoding: current.data, as: UTF8.self) == #"{"round":\#(round)}"#, "round \(round)")
            default:
                Issue.record("round \(round): the write gave \(written)")
            }
            #expect(try await service.read(old.id, at: clock.now(), on: loop).get() == nil)
        }
    }
}
