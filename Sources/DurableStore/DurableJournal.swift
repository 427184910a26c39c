import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SessionCore
import Synchronization

/// The append-only log behind the durable store: event loops buffer records (`record`, inside a
/// session's critical section), and one writer thread of its own writes them to the current log
/// file, fsyncs as `FsyncPolicy` says, and completes the waiting writes' futures on their own
/// event loops. No event loop ever waits for the disk.
///
/// Group commit: the writer takes everything buffered since its last pass in one `write`, and
/// with `always` one `fdatasync` covers the whole batch; the writes that arrive while it runs
/// form the next batch.
///
/// When a write or fsync fails (a full disk, an I/O error), the journal stops: the log file is
/// cut back to its last whole batch and never appended to again, waiting writes fail with
/// `SessionStoreError.unavailable`, and new writes are refused before they change anything, while
/// reads go on. The `Compactor` brings it back: a new log (`cut`), a snapshot of everything held
/// in memory, then `resume`.
final class DurableJournal: @unchecked Sendable {
    // @unchecked: the fields marked "guarded" are only touched while `signal` is locked, and the
    // fields marked "writer" only by the writer thread (or before it starts).

    private struct Waiter {
        let position: UInt64
        let promise: EventLoopPromise<Void>
    }

    let policy: FsyncPolicy
    private let directory: DataDirectory
    private let logger: Logger
    /// 1 when the writer has work: records, a request.
    private let signal = ConditionLock(value: 0)
    private var pending: [UInt8] = []  // guarded
    private var appended: UInt64 = 0  // guarded: bytes recorded since start
    private var written: UInt64 = 0  // guarded: bytes in the kernel
    private var synced: UInt64 = 0  // guarded: bytes fsynced
    private var waiters: [Waiter] = []  // guarded
    private var failure: String?  // guarded: why writes are refused
    private var requests: [JournalRequest] = []  // guarded
    private var writerGone = false  // guarded: the writer thread has ended
    /// Whether writes are refused, read without the lock on every write.
    private let refusing = Atomic<Bool>(false)
    /// Bytes in the current log file, for the compactor's trigger.
    private let currentLogBytes = Atomic<Int>(0)

    private var log: DataFile?  // writer
    private var generation: UInt64  // writer
    private var dirty = false  // writer: written since the last fsync
    private var lastSync = ContinuousClock.now  // writer

    /// Opens the log to append to (made afresh when `openLog` is nil) and starts the writer
    /// thread.
    /// - Throws: `SystemCallError` when the log cannot be opened or made.
    init(
        directory: DataDirectory, policy: FsyncPolicy, openLog: (generation: UInt64, length: Int)?, newGeneration: UInt64,
        logger: Logger
    ) throws(SystemCallError) {
        self.directory = directory
        self.policy = policy
        self.logger = logger
        if let openLog {
            log = try DataFile.openForAppending(directory.logPath(openLog.generation), create: false)
            generation = openLog.generation
            currentLogBytes.store(openLog.length, ordering: .relaxed)
        } else {
            log = try Self.makeLog(newGeneration, in: directory)
            generation = newGeneration
            currentLogBytes.store(FileHeader.size, ordering: .relaxed)
        }
        let thread = Thread { [self] in run() }
        thread.name = "sessiond-journal"
        thread.start()
    }

    /// Makes `log.<generation>` with its header, durable (file and directory fsynced); fails
    /// when that file exists (a log is never overwritten).
    private static func makeLog(_ generation: UInt64, in directory: DataDirectory) throws(SystemCallError) -> DataFile {
        let path = directory.logPath(generation)
        let file = try DataFile.openForAppending(path, create: true)
        do {
            try file.write(FileHeader(kind: .log, generation: generation).bytes)
            try file.sync()
            try directory.sync()
        } catch {
            file.close()
            try? directory.remove(path)
            throw error
        }
        return file
    }

    // MARK: - Called by the stores (event loops)

    /// nil while writes are accepted.
    func writeRefusal() -> SessionStoreError? {
        guard refusing.load(ordering: .relaxed) else { return nil }
        signal.lock()
        let reason = failure ?? "the journal is stopped"
        signal.unlock()
        return .unavailable("the data directory cannot be written (\(reason)); writes resume once it can")
    }

    /// Buffers `change` of `namespace`.
    func record(_ change: JournalChange, namespace: String) -> JournalTicket {
        signal.lock()
        let before = pending.count
        RecordEncoder.append(DurableRecord(change, namespace: namespace), to: &pending)
        appended += UInt64(pending.count - before)
        let position = appended
        signal.unlock(withValue: 1)
        return JournalTicket(position: position)
    }

    /// Completes on `eventLoop` once `ticket` is written (fsynced with `always`).
    func whenDurable(_ ticket: JournalTicket, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        signal.lock()
        let reached = policy == .always ? synced : written
        if reached >= ticket.position {
            signal.unlock()
            return eventLoop.makeSucceededVoidFuture()
        }
        if let failure {
            signal.unlock()
            return eventLoop.makeFailedFuture(SessionStoreError.unavailable("the data directory cannot be written (\(failure))"))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        waiters.append(Waiter(position: ticket.position, promise: promise))
        signal.unlock()
        return promise.futureResult
    }

    // MARK: - Called by the compactor (its own thread)

    /// Bytes in the current log file.
    var logBytes: Int { currentLogBytes.load(ordering: .relaxed) }

    /// Whether writes are refused after a failure.
    var isFailed: Bool { refusing.load(ordering: .relaxed) }

    /// Starts a new log: every record buffered before the call is in the old log (fsynced), and
    /// every later one goes to the new. Blocks the calling thread (never an event loop) until
    /// the writer has switched.
    /// - Returns: the new log's generation.
    func cut() -> Result<UInt64, SystemCallError> {
        submit(JournalRequest(.cut))
    }

    /// Accepts writes again after a failure; the compactor calls it once a snapshot holds
    /// everything the failed log may have missed.
    func resume() {
        signal.lock()
        failure = nil
        refusing.store(false, ordering: .relaxed)
        signal.unlock()
        logger.notice("the data directory can be written again: writes are accepted")
    }

    /// Writes and fsyncs everything buffered, closes the log and ends the writer thread; later
    /// writes are refused. Blocks the calling thread until done.
    func stop() {
        _ = submit(JournalRequest(.stop))
    }

    private func submit(_ request: JournalRequest) -> Result<UInt64, SystemCallError> {
        signal.lock()
        guard !writerGone else {
            signal.unlock()
            return .failure(SystemCallError(call: "write", path: directory.path, code: EBADF))
        }
        requests.append(request)
        signal.unlock(withValue: 1)
        return request.wait()
    }

    // MARK: - The writer thread

    private func run() {
        var batch: [UInt8] = []
        while true {
            let timeout = policy == .everysec && dirty ? max(0.001, 1 - (ContinuousClock.now - lastSync).inSeconds) : 1
            if !signal.lock(whenValue: 1, timeoutSeconds: timeout) { signal.lock() }
            swap(&batch, &pending)
            let upTo = appended
            let taken = requests
            requests.removeAll()
            let failedBefore = failure != nil
            signal.unlock(withValue: 0)

            var error: SystemCallError?
            if !failedBefore {
                // A cut or a stop fsyncs what the old log holds, whatever the policy.
                error = writeAndSync(batch, force: !taken.isEmpty)
            }
            batch.removeAll(keepingCapacity: true)
            publish(upTo: upTo, error: error)
            for (position, request) in taken.enumerated() {
                switch request.kind {
                case .cut:
                    request.finish(switchLog())
                case .stop:
                    finishStopping()
                    request.finish(.success(generation))
                    // Requests that came with it (or after) are answered: nothing more is written.
                    signal.lock()
                    writerGone = true
                    let late = requests
                    requests.removeAll()
                    signal.unlock()
                    let gone = SystemCallError(call: "write", path: directory.path, code: EBADF)
                    for other in taken[(position + 1)...] { other.finish(.failure(gone)) }
                    for other in late { other.finish(.failure(gone)) }
                    return
                }
            }
        }
    }

    /// Writes `batch` and fsyncs as the policy says (always when `force`).
    private func writeAndSync(_ batch: [UInt8], force: Bool) -> SystemCallError? {
        guard let log else { return SystemCallError(call: "write", path: directory.logPath(generation), code: EBADF) }
        if !batch.isEmpty {
            do {
                try log.write(batch)
                dirty = true
                currentLogBytes.add(batch.count, ordering: .relaxed)
            } catch {
                // Cut back to the last whole batch, so the file never holds half a record that a
                // later write could follow (best effort: the log is not appended to again anyway).
                try? log.truncate(to: currentLogBytes.load(ordering: .relaxed))
                return error
            }
        }
        let due: Bool
        switch policy {
        case .always: due = true
        case .everysec: due = ContinuousClock.now - lastSync >= .seconds(1)
        case .no: due = false
        }
        guard dirty, due || force else { return nil }
        do {
            try log.sync()
            dirty = false
            lastSync = .now
            return nil
        } catch {
            return error
        }
    }

    /// Publishes what reached the kernel and the disk, and completes the waiting writes: with
    /// `error`, the journal fails and every waiting write fails with it.
    private func publish(upTo: UInt64, error: SystemCallError?) {
        var ready: [Waiter] = []
        var failedWaiters: [Waiter] = []
        signal.lock()
        if let error {
            failure = failure ?? "\(error)"
            refusing.store(true, ordering: .relaxed)
            failedWaiters = waiters
            waiters.removeAll()
        } else if failure == nil {
            written = upTo
            if !dirty { synced = upTo }
            let reached = policy == .always ? synced : written
            if !waiters.isEmpty {
                var keep: [Waiter] = []
                for waiter in waiters {
                    if waiter.position <= reached { ready.append(waiter) } else { keep.append(waiter) }
                }
                waiters = keep
            }
        } else {
            // Failed: what was buffered is dropped (the snapshot that resumes the journal holds
            // it); nothing waits for it, since writes are refused.
            written = upTo
            failedWaiters = waiters
            waiters.removeAll()
        }
        signal.unlock()
        if let error {
            logger.error(
                "cannot write the data directory: writes get 503 until it can be written again; reads go on",
                metadata: ["error": "\(error)"]
            )
        }
        Self.complete(ready, with: .success(()))
        if !failedWaiters.isEmpty {
            Self.complete(failedWaiters, with: .failure(SessionStoreError.unavailable("the data directory cannot be written")))
        }
    }

    /// Completes `waiters`, one task per event loop.
    private static func complete(_ waiters: [Waiter], with result: Result<Void, any Error>) {
        guard !waiters.isEmpty else { return }
        var byLoop: [ObjectIdentifier: [EventLoopPromise<Void>]] = [:]
        for waiter in waiters { byLoop[ObjectIdentifier(waiter.promise.futureResult.eventLoop), default: []].append(waiter.promise) }
        for promises in byLoop.values {
            guard let loop = promises.first?.futureResult.eventLoop else { continue }
            loop.execute {
                for promise in promises { promise.completeWith(result) }
            }
        }
    }

    /// Makes the next log and switches to it, fsyncing and closing the old one.
    private func switchLog() -> Result<UInt64, SystemCallError> {
        let next = generation + 1
        let file: DataFile
        do {
            file = try Self.makeLog(next, in: directory)
        } catch {
            return .failure(error)
        }
        if let log, !isFailed {
            if dirty {
                do {
                    try log.sync()
                } catch {
                    signal.lock()
                    let reached = written
                    signal.unlock()
                    publish(upTo: reached, error: error)
                }
            }
            log.close()
        }
        log = file
        generation = next
        dirty = false
        currentLogBytes.store(FileHeader.size, ordering: .relaxed)
        return .success(next)
    }

    private func finishStopping() {
        signal.lock()
        failure = failure ?? "sessiond is stopping"
        refusing.store(true, ordering: .relaxed)
        let left = waiters
        waiters.removeAll()
        signal.unlock()
        Self.complete(left, with: .failure(SessionStoreError.unavailable("sessiond is stopping")))
        log?.close()
        log = nil
    }
}
