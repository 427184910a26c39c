import Foundation
import Logging
import NIOConcurrencyHelpers
import SessionCore
import Synchronization

/// Keeps the data directory small and brings the journal back after a failure, from a thread of
/// its own, without pausing requests.
///
/// Compaction: when the current log outgrows both `minimumLogBytes` and the last snapshot (so the
/// files stay within about twice the live data), the journal starts a new log (`cut`), a snapshot
/// of every store's live sessions is written beside it (expired sessions are left out), and the
/// logs older than the new snapshot are removed. Records written during the snapshot go to the
/// new log, which start-up replays over it.
///
/// After a write failure, the same steps run once a second until they succeed; the journal then
/// accepts writes again.
final class Compactor: @unchecked Sendable {
    // @unchecked: `snapshotBytes` and `retryAt` are used under `running` only.

    /// When to compact.
    struct Configuration: Sendable {
        /// No compaction while the log is smaller than this (so small stores do not compact all
        /// the time), whatever the snapshot's size.
        var minimumLogBytes = 16 << 20
        /// How often the log's size is checked.
        var checkInterval: Duration = .seconds(1)
        /// How long to wait after a failed compaction (a failed journal retries every check).
        var retryDelay: Duration = .seconds(10)
    }

    private let journal: DurableJournal
    private let directory: DataDirectory
    private let configuration: Configuration
    private let clock: any SessionClock
    private let logger: Logger
    private let stores: NIOLockedValueBox<[(String, MemoryStore)]> = NIOLockedValueBox([])
    /// Held for the whole of one compaction: the thread's and `compactNow`'s never overlap.
    private let running = NIOLock()
    private var snapshotBytes: Int
    private var retryAt = ContinuousClock.now
    /// 1 once asked to stop.
    private let wake = ConditionLock(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let finished = ConditionLock(value: false)
    private let started = Atomic<Bool>(false)

    init(
        journal: DurableJournal, directory: DataDirectory, snapshotBytes: Int, configuration: Configuration,
        clock: any SessionClock, logger: Logger
    ) {
        self.journal = journal
        self.directory = directory
        self.snapshotBytes = snapshotBytes
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Adds a namespace's store to the snapshots.
    func add(_ store: MemoryStore, namespace: String) {
        stores.withLockedValue { $0.append((namespace, store)) }
    }

    /// Starts the thread.
    func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in run() }
        thread.name = "sessiond-compactor"
        thread.start()
    }

    /// Stops the thread (abandoning a snapshot in progress) and waits for it. Blocks the caller.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        // Never started (or stopped already): nothing to wait for.
        guard started.exchange(true, ordering: .relaxed) else {
            finished.lock()
            finished.unlock(withValue: true)
            return
        }
        wake.lock()
        wake.unlock(withValue: 1)
        finished.lock(whenValue: true)
        finished.unlock()
    }

    private func run() {
        let interval = configuration.checkInterval.inSeconds
        while true {
            if wake.lock(whenValue: 1, timeoutSeconds: interval) {
                wake.unlock()
                break
            }
            check()
        }
        finished.lock()
        finished.unlock(withValue: true)
    }

    /// One check: recover from a failure, or compact when the log has grown enough.
    private func check() {
        running.withLock {
            if journal.isFailed {
                if compactLocked(reason: "recovering from a write failure") {
                    journal.resume()
                }
            } else if ContinuousClock.now >= retryAt, journal.logBytes > max(configuration.minimumLogBytes, snapshotBytes) {
                if !compactLocked(reason: "the log outgrew the snapshot") {
                    retryAt = .now + configuration.retryDelay
                }
            }
        }
    }

    /// Compacts now, on the calling thread (never an event loop): for tests and tools.
    /// - Returns: whether a new snapshot was written.
    @discardableResult
    func compactNow() -> Bool {
        running.withLock {
            let done = compactLocked(reason: "asked")
            if done, journal.isFailed { journal.resume() }
            return done
        }
    }

    private func compactLocked(reason: String) -> Bool {
        let started = ContinuousClock.now
        let generation: UInt64
        switch journal.cut() {
        case let .success(next):
            generation = next
        case let .failure(error):
            logger.error("cannot start a new log for a snapshot", metadata: ["error": "\(error)", "reason": "\(reason)"])
            return false
        }
        let stores = self.stores.withLockedValue { $0 }
        let written: (bytes: Int, sessions: Int)?
        do {
            written = try SnapshotWriter(directory: directory).write(
                generation: generation, stores: stores, at: clock.now(), shouldStop: { stopping.load(ordering: .relaxed) }
            )
        } catch {
            logger.error("cannot write a snapshot", metadata: ["error": "\(error)", "reason": "\(reason)"])
            return false
        }
        guard let written else { return false }
        snapshotBytes = written.bytes
        removeLogs(before: generation)
        logger.notice(
            "wrote a snapshot",
            metadata: [
                "reason": "\(reason)", "generation": "\(generation)", "sessions": "\(written.sessions)",
                "bytes": "\(written.bytes)", "duration_ms": "\((ContinuousClock.now - started).inMilliseconds)",
            ]
        )
        return true
    }

    /// Removes the logs that the snapshot of `generation` holds.
    private func removeLogs(before generation: UInt64) {
        do {
            for old in try directory.list().logs where old < generation {
                try directory.remove(directory.logPath(old))
            }
            try directory.sync()
        } catch {
            logger.warning("cannot remove old logs (start-up removes them)", metadata: ["error": "\(error)"])
        }
    }
}
