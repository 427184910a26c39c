#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import RedisClient
import RedisStore
import SessionCore

extension StoreUnderTest {
    /// How many entries the store's index holds for `subject` (live or stale).
    func indexEntryCount(_ store: any SessionStore, _ subject: Subject) async throws -> Int {
        if let memory = store as? MemoryStore { return memory.indexEntryCount }
        guard let redis = store as? RedisStore else { return -1 }
        let reply = try await redis.pool.send(RedisCommand("ZCARD", redis.indexKey(for: subject)), on: MultiThreadedEventLoopGroup.singleton.next()).get()
        return Int(reply.int ?? -1)
    }
}

/// A new empty directory under the system's temporary directory.
func temporaryDirectory() -> String {
    var template = Array("/tmp/sessiond-test-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let path = mkdtemp(base) else { return nil }
        return String(cString: path)
    }
    guard let made else { fatalError("mkdtemp failed: \(errno)") }
    return made
}

extension Session {
    /// A new session at `now` under `policy`.
    static func fresh(
        _ data: String = #"{"user":42}"#, permanent: Bool = false, subject: String? = nil, now: Timestamp, policy: LifetimePolicy
    ) -> Session {
        Session(
            id: .random(), data: Array(data.utf8), permanent: permanent, subject: subject.flatMap(Subject.init), version: 1,
            createdAt: now, updatedAt: now, expiresAt: policy.expiry(createdAt: now, now: now, permanent: permanent)
        )
    }
}

extension UpdateOutcome {
    /// The session of `.updated`, else nil.
    var session: Session? {
        if case let .updated(session) = self { return session }
        return nil
    }

    /// The current version of `.conflict`, else nil.
    var conflictVersion: UInt64? {
        if case let .conflict(version) = self { return version }
        return nil
    }
}

/// A patch of `data` only.
func dataPatch(_ json: String, maxDataBytes: Int = 65_536) -> SessionMutation {
    .patch(SessionPatch(data: Array(json.utf8), permanent: nil, subject: .keep, maxDataBytes: maxDataBytes))
}
