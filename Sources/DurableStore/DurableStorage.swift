import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SessionCore

/// The durable embedded store (`--data-dir`): the data directory, what start-up recovered from
/// it, the journal that the namespaces' `MemoryStore`s record to, and the compactor. A
/// swift-service-lifecycle `Service`: it compacts while running, and on graceful shutdown (after
/// the HTTP server drained) writes and fsyncs everything buffered before it returns, so a clean
/// stop loses nothing.
///
/// Use: `open` it (recovery happens there), make each namespace's store with `journal(for:)`,
/// hand it to `attach` (which loads its recovered sessions), then run it with the server.
public final class DurableStorage: Service, Sendable {
    /// What start-up recovery found, for the start-up log line and the benchmark.
    public struct RecoveryReport: Sendable {
        /// Live sessions recovered, over all namespaces.
        public let sessions: Int
        /// Records read from the snapshot and the logs.
        public let records: Int
        /// Bytes of torn or corrupt log tails that were cut off.
        public let bytesDropped: Int
        /// How long recovery took (reading, checking and replaying; not loading into the stores).
        public let duration: Duration
    }

    public let path: String
    public let policy: FsyncPolicy
    public let report: RecoveryReport
    private let directory: DataDirectory
    private let journal: DurableJournal
    private let compactor: Compactor
    private let recovered: NIOLockedValueBox<[String: [SessionHandle: Session]]>
    private let logger: Logger

    /// Opens the data directory at `path` (making it when absent), takes its lock, recovers its
    /// sessions and opens the log.
    /// - Parameters:
    ///   - clock: decides which recovered sessions have expired and are left out.
    ///   - compaction: when to compact (tests make it small).
    /// - Throws: `DurableStoreError` saying what is wrong and what to do: another process holds
    ///   the directory, it cannot be read or written, a file is of another format version, or
    ///   the snapshot is damaged.
    public init(
        path: String, policy: FsyncPolicy, clock: any SessionClock = SystemClock(),
        compaction: CompactionSettings = .init(), logger: Logger = Logger(label: "sessiond.durable-store")
    ) throws(DurableStoreError) {
        let started = ContinuousClock.now
        let directory = try DataDirectory(path: path)
        let state = try Recovery(directory: directory, logger: logger).run(now: clock.now())
        let journal: DurableJournal
        do {
            journal = try DurableJournal(
                directory: directory, policy: policy, openLog: state.openLog,
                newGeneration: state.nextGeneration, logger: logger
            )
        } catch {
            throw DurableStoreError(.unusableDirectory, "cannot open the log: \(error); give this user write access to the data directory, or free space on its disk")
        }
        self.path = path
        self.policy = policy
        self.directory = directory
        self.journal = journal
        self.logger = logger
        self.recovered = NIOLockedValueBox(state.namespaces)
        self.compactor = Compactor(
            journal: journal, directory: directory, snapshotBytes: state.snapshotBytes,
            configuration: compaction.configuration, clock: clock, logger: logger
        )
        self.report = RecoveryReport(
            sessions: state.sessionCount, records: state.recordsRead, bytesDropped: state.bytesDropped,
            duration: ContinuousClock.now - started
        )
    }

    /// The namespaces that recovered sessions belong to (some may no longer have an API key:
    /// their sessions are kept, unreachable, until their key returns or they expire).
    public var recoveredNamespaces: [String] {
        recovered.withLockedValue { Array($0.keys) }
    }

    /// The journal that `namespace`'s store must record to.
    public func journal(for namespace: String) -> any SessionJournal {
        NamespaceJournal(journal: journal, namespace: namespace)
    }

    /// Loads `namespace`'s recovered sessions into `store` (made with `journal(for:)`) and
    /// includes it in snapshots. Call once per namespace, before serving.
    public func attach(_ store: MemoryStore, namespace: String) {
        let sessions = recovered.withLockedValue { $0.removeValue(forKey: namespace) } ?? [:]
        store.restore(sessions.lazy.map { ($0.key, $0.value) })
        compactor.add(store, namespace: namespace)
    }

    /// Writes a snapshot now and removes the logs it holds, on the calling thread (never an
    /// event loop): for tests and tools.
    /// - Returns: whether a snapshot was written.
    @discardableResult
    public func compactNow() -> Bool { compactor.compactNow() }

    /// Whether writes are refused after a write failure (until the directory can be written).
    public var isFailed: Bool { journal.isFailed }

    /// Compacts in the background until graceful shutdown or cancellation, then stops: writes
    /// and fsyncs what is buffered and closes the log.
    public func run() async throws {
        compactor.start()
        try? await gracefulShutdown()
        await close()
    }

    /// Stops the compactor and the journal (everything buffered is written and fsynced) and
    /// releases the directory's lock; later writes are refused. Safe to call more than once.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                compactor.stop()
                journal.stop()
                continuation.resume()
            }
            thread.name = "sessiond-durable-close"
            thread.start()
        }
        directory.release()
        logger.info("the data directory is flushed and closed", metadata: ["data_dir": "\(path)"])
    }
}

/// When the durable store compacts its files.
public struct CompactionSettings: Sendable {
    var configuration: Compactor.Configuration

    /// - Parameters:
    ///   - minimumLogBytes: no compaction while the log is smaller (16 MiB by default).
    ///   - checkInterval: how often the log's size is checked, and a failed journal retried.
    public init(minimumLogBytes: Int = 16 << 20, checkInterval: Duration = .seconds(1)) {
        configuration = .init(minimumLogBytes: minimumLogBytes, checkInterval: checkInterval)
    }
}
