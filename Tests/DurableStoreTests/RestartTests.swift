import DurableStore
import NIOCore
import NIOPosix
import SessionCore
import Testing

/// The durable store across restarts: everything it held comes back exactly (namespaces kept
/// apart, subjects and their index, versions, own lifetimes, handles), through compactions,
/// damaged tails and refusals.
@Suite("Durable store: restarts")
struct RestartTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy(permanent: 31 * 86_400_000, standard: 86_400_000, absolute: nil, maxOwn: 31 * 86_400_000)
    let namespaces = ["", "shop", "admin"]

    /// What a client can see of one namespace: every known sid's session (or nil) and every
    /// subject's listing.
    struct View: Equatable {
        var sessions: [SessionID: Session?] = [:]
        var listings: [Subject: [SessionSummary]] = [:]
        var indexEntries = 0
    }

    func view(_ harness: DurableHarness, ids: [String: [SessionID]], subjects: [Subject]) async throws -> [String: View] {
        var views: [String: View] = [:]
        for namespace in namespaces {
            guard let service = harness.services[namespace], let store = harness.stores[namespace] else { continue }
            var view = View()
            for id in ids[namespace] ?? [] { view.sessions[id] = try await service.read(id, at: clock.now(), on: loop).get() }
            for subject in subjects { view.listings[subject] = try await service.sessions(of: subject, on: loop).get() }
            view.indexEntries = store.indexEntryCount
            views[namespace] = view
        }
        return views
    }

    /// Creates, patches, replaces, touches, rotates, deletes and revokes in every namespace,
    /// with the same subjects in each; returns every sid used.
    func work(_ harness: DurableHarness, round: Int, ids: inout [String: [SessionID]], subjects: [Subject]) async throws {
        for (n, namespace) in namespaces.enumerated() {
            guard let service = harness.services[namespace] else { continue }
            for index in 0..<30 {
                let subject = index % 3 == 0 ? nil : subjects[index % subjects.count]
                let lifetime: Int64? = index % 4 == 0 ? 600_000 : nil
                let data = Array(#"{"n":\#(index),"round":\#(round),"ns":"\#(namespace)","x":[0.1,1e-7,"caf\u00e9"]}"#.utf8)
                let session = try await service.create(data: data, permanent: index % 5 == 0, subject: subject, lifetime: lifetime, on: loop).get()
                ids[namespace, default: []].append(session.id)
                switch (index + n) % 6 {
                case 0:
                    let patch = SessionPatch(data: Array(#"{"x":null,"patched":true}"#.utf8), permanent: true, subject: .set(subjects[0]), lifetime: .set(nil), maxDataBytes: 65_536)
                    _ = try await service.update(session.id, .patch(patch), on: loop).get()
                case 1:
                    _ = try await service.update(session.id, .replace(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: 90_000), on: loop).get()
                case 2:
                    clock.advance(milliseconds: 7)
                    _ = try await service.update(session.id, .touch, on: loop).get()
                case 3:
                    if case let .rotated(new) = try await service.rotate(session.id, on: loop).get() { ids[namespace, default: []].append(new.id) }
                case 4:
                    _ = try await service.delete(session.id, on: loop).get()
                default:
                    break
                }
                clock.advance(milliseconds: 3)
            }
            // Log out everywhere, in one namespace only: the others keep that subject's sessions.
            if namespace == "shop" { _ = try await service.revokeAll(of: subjects[1], on: loop).get() }
        }
    }

    @Test func everythingComesBackAfterRestartsAndCompactions() async throws {
        let path = temporaryDirectory()
        let subjects = ["user-1", "user-2", "caf\u{e9}"].compactMap(Subject.init)
        var ids: [String: [SessionID]] = [:]

        var harness = try DurableHarness(path: path, namespaces: namespaces, policy: policy, clock: clock)
        try await work(harness, round: 1, ids: &ids, subjects: subjects)
        var before = try await view(harness, ids: ids, subjects: subjects)
        #expect(before["shop"]?.listings[subjects[1]]?.isEmpty == true)
        #expect(before["admin"]?.listings[subjects[1]]?.isEmpty == false)
        await harness.storage.close()

        // Restart: the same view, in every namespace.
        harness = try DurableHarness(path: path, namespaces: namespaces, policy: policy, clock: clock)
        #expect(try await view(harness, ids: ids, subjects: subjects) == before)

        // Compact in the middle, write more, restart again.
        #expect(harness.storage.compactNow())
        try await work(harness, round: 2, ids: &ids, subjects: subjects)
        before = try await view(harness, ids: ids, subjects: subjects)
        await harness.storage.close()
        #expect(fileNames(path).contains("snapshot"))
        #expect(fileNames(path).filter { $0.hasPrefix("log.") }.count == 1)

        harness = try DurableHarness(path: path, namespaces: namespaces, policy: policy, clock: clock)
        #expect(try await view(harness, ids: ids, subjects: subjects) == before)
        await harness.storage.close()
    }

    @Test func expiredSessionsAreNotCarriedIntoASnapshot() async throws {
        let path = temporaryDirectory()
        var harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock)
        let service = try #require(harness.services[""])
        let short = try await service.create(data: Array("{}".utf8), permanent: false, lifetime: 1000, on: loop).get()
        let long = try await service.create(data: Array("{}".utf8), permanent: true, on: loop).get()
        clock.advance(milliseconds: 1500)
        #expect(harness.storage.compactNow())
        await harness.storage.close()
        let snapshot = fileBytes(path + "/snapshot")
        #expect(snapshot.count > 28)

        harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock)
        #expect(harness.storage.report.sessions == 1)
        #expect(try await harness.service().read(long.id, at: clock.now(), on: loop).get()?.version == 1)
        #expect(try await harness.service().read(short.id, at: clock.now(), on: loop).get() == nil)
        await harness.storage.close()
    }

    /// Tails a crash or a damaged disk leaves behind a log's last good record.
    enum Tail: String, CaseIterable, Sendable {
        case zeros, torn, garbage
        var bytes: [UInt8] {
            switch self {
            case .zeros: return [UInt8](repeating: 0, count: 4096)
            case .torn: return [40, 0, 0, 0, 1, 2, 3, 4, 1, 9]
            case .garbage: return Array("garbage that is not a record".utf8)
            }
        }
    }

    @Test(arguments: Tail.allCases)
    func aDamagedLogTailIsCutAndWritingGoesOn(tail kind: Tail) async throws {
        let tail = kind.bytes
        let path = temporaryDirectory()
        var harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock)
        var created: [Session] = []
        for index in 0..<10 {
            created.append(try await harness.service().create(data: Array(#"{"i":\#(index)}"#.utf8), permanent: false, on: loop).get())
        }
        await harness.storage.close()
        let logName = try #require(fileNames(path).first { $0.hasPrefix("log.") })
        let good = fileBytes(path + "/" + logName)
        writeFile(path + "/" + logName, good + tail)

        harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock)
        #expect(harness.storage.report.bytesDropped == tail.count)
        #expect(fileBytes(path + "/" + logName) == good)
        for session in created {
            #expect(try await harness.service().read(session.id, at: clock.now(), on: loop).get() == session)
        }
        let later = try await harness.service().create(data: Array("{}".utf8), permanent: false, on: loop).get()
        await harness.storage.close()

        harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock)
        #expect(harness.storage.report.bytesDropped == 0)
        #expect(harness.storage.report.sessions == 11)
        #expect(try await harness.service().read(later.id, at: clock.now(), on: loop).get() == later)
        await harness.storage.close()
    }

    @Test func aSecondOpenOfTheSameDirectoryIsRefused() async throws {
        let path = temporaryDirectory()
        let first = try DurableStorage(path: path, policy: .everysec)
        #expect(throws: DurableStoreError.self) { _ = try DurableStorage(path: path, policy: .everysec) }
        do {
            _ = try DurableStorage(path: path, policy: .everysec)
        } catch {
            #expect(error.code == .locked)
            #expect(error.description.contains("in use by another sessiond"))
        }
        await first.close()
    }

    @Test func anotherFormatVersionOrADamagedSnapshotStopsTheStart() async throws {
        let path = temporaryDirectory()
        let harness = try DurableHarness(path: path, namespaces: [""], policy: policy, clock: clock)
        _ = try await harness.service().create(data: Array("{}".utf8), permanent: false, on: loop).get()
        #expect(harness.storage.compactNow())
        await harness.storage.close()
        let snapshot = fileBytes(path + "/snapshot")

        var flipped = snapshot
        flipped[snapshot.count - 3] ^= 0x40
        writeFile(path + "/snapshot", flipped)
        #expect(await refusal(path)?.code == .corrupt)

        writeFile(path + "/snapshot", Array(snapshot.dropLast(5)))
        #expect(await refusal(path)?.code == .corrupt)

        var otherVersion = snapshot
        otherVersion[8] = 9
        writeFile(path + "/snapshot", otherVersion)
        let error = await refusal(path)
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.description.contains("format version 9") == true)

        writeFile(path + "/snapshot", snapshot)
        #expect(await refusal(path) == nil)
    }

    @Test func aPathThatIsNotADirectoryIsRefused() async {
        let path = temporaryDirectory() + "/file"
        writeFile(path, [1])
        #expect(await refusal(path)?.code == .unusableDirectory)
    }

    /// Why opening `path` fails, or nil when it opens (it is closed again).
    func refusal(_ path: String) async -> DurableStoreError? {
        do {
            let storage = try DurableStorage(path: path, policy: .no)
            await storage.close()
            return nil
        } catch {
            return error
        }
    }
}
