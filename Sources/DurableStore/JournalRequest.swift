import NIOConcurrencyHelpers

/// Something asked of the journal's writer thread by another thread (the compactor, or the
/// shutdown): the asking thread blocks in `wait()` until the writer calls `finish`. Never used
/// from an event loop.
final class JournalRequest: @unchecked Sendable {
    // @unchecked: `result` is only touched while `done` is locked.

    /// What is asked.
    enum Kind {
        /// Start a new log (`DurableJournal.cut()`); the result is its generation.
        case cut
        /// Write and fsync what is buffered, close the log, end the thread.
        case stop
    }

    let kind: Kind
    private let done = ConditionLock(value: false)
    private var result: Result<UInt64, SystemCallError> = .success(0)

    init(_ kind: Kind) { self.kind = kind }

    /// Answers the request (called by the writer thread once).
    func finish(_ result: Result<UInt64, SystemCallError>) {
        done.lock()
        self.result = result
        done.unlock(withValue: true)
    }

    /// Blocks until the request is answered.
    func wait() -> Result<UInt64, SystemCallError> {
        done.lock(whenValue: true)
        defer { done.unlock() }
        return result
    }
}
