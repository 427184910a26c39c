import DurableStore
import NIOCore
import NIOPosix
import SessionCore
import Testing

/// Snapshots taken while writes go on: every write lands either in the snapshot or in the log
/// replayed over it, so a restart sees exactly what the store held.
@Suite("Durable store: compaction under writes")
struct CompactionTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(permanent: 31 * 86_400_000, standard: 86_400_000, absolute: nil, maxOwn: 31 * 86_400_000)

    /// Creates, replaces, patches, touches and deletes sessions of its own, `steps` times.
    /// - Returns: every sid it used.
    static func writer(_ service: SessionService, seed: UInt64, steps: Int, on loop: any EventLoop) async throws -> [SessionID] {
        var generator = SplitMix(seed: seed)
        var live: [SessionID] = []
        var all: [SessionID] = []
        for step in 0..<steps {
            let choice = live.isEmpty ? 0 : Int(generator.next() % 6)
            switch choice {
            case 0, 5:
                let subject = Subject("user-\(generator.next() % 7)")
                let created = try await service.create(
                    data: Array(#"{"step":\#(step)}"#.utf8), permanent: false, subject: subject, on: loop
                ).get()
                live.append(created.id)
                all.append(created.id)
            case 1:
                let id = live[Int(generator.next() % UInt64(live.count))]
                _ = try await service.update(id, .replace(data: Array(#"{"put":\#(step)}"#.utf8), permanent: true, subject: nil, lifetime: nil), on: loop).get()
            case 2:
                let id = live[Int(generator.next() % UInt64(live.count))]
                let patch = SessionPatch(data: Array(#"{"patch":\#(step)}"#.utf8), permanent: nil, subject: .keep, maxDataBytes: 65_536)
                _ = try await service.update(id, .patch(patch), on: loop).get()
            case 3:
                let id = live[Int(generator.next() % UInt64(live.count))]
                _ = try await service.update(id, .touch, on: loop).get()
            default:  // 4
                let index = Int(generator.next() % UInt64(live.count))
                _ = try await service.delete(live[index], on: loop).get()
                live.remove(at: index)
            }
        }
        return all
    }

    @Test(arguments: [FsyncPolicy.always, .everysec])
    func snapshotsTakenDuringWritesLoseNothing(fsync: FsyncPolicy) async throws {
        let path = temporaryDirectory()
        let harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock, fsync: fsync)
        let service = harness.service()
        let storage = harness.storage
        let compactions = Task.detached { () -> Int in
            var done = 0
            for _ in 0..<8 {
                if storage.compactNow() { done += 1 }
            }
            return done
        }
        let ids = try await withThrowingTaskGroup(of: [SessionID].self) { group in
            for seed in 1...4 {
                group.addTask { try await Self.writer(service, seed: UInt64(seed), steps: 400, on: MultiThreadedEventLoopGroup.singleton.next()) }
            }
            var all: [SessionID] = []
            for try await some in group { all += some }
            return all
        }
        #expect(await compactions.value == 8)
        var before: [SessionID: Session?] = [:]
        for id in ids { before[id] = try await service.read(id, at: clock.now(), on: loop).get() }
        let liveBefore = before.values.compactMap { $0 }.count
        #expect(liveBefore > 50)
        await storage.close()

        let reopened = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock, fsync: fsync)
        #expect(reopened.storage.report.sessions == liveBefore)
        for id in ids {
            let after = try await reopened.service().read(id, at: clock.now(), on: loop).get()
            #expect(after == before[id] ?? nil, "\(id)")
        }
        #expect(reopened.stores[""]?.indexEntryCount == harness.stores[""]?.indexEntryCount)
        await reopened.storage.close()
    }
}

/// A small seeded generator (SplitMix64), so that a failing case can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
