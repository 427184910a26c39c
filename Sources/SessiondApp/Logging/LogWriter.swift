#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers

/// Writes log lines to standard output from a thread of its own, so that an event loop never
/// waits for a slow reader of the log. The thread writes what gathered in a couple of
/// milliseconds in one write. Lines wait in a bounded queue; when it is full, new lines
/// are dropped and counted, and a line saying how many were dropped follows once there is room.
/// A writer and its thread live until the process ends.
public final class LogWriter: @unchecked Sendable {
    // @unchecked: `pending` and `dropped` are only touched while `state` is locked.

    /// The writer every `LineLogHandler` uses.
    public static let shared = LogWriter(capacity: 10_000, descriptor: STDOUT_FILENO)

    private enum Value { static let empty = 0, waiting = 1 }
    private let state = ConditionLock(value: Value.empty)
    private var pending: [[UInt8]] = []
    private var dropped = 0
    private var writing = false
    private let capacity: Int
    private let descriptor: Int32

    /// - Parameters:
    ///   - capacity: the most lines waiting; more are dropped.
    ///   - descriptor: where lines go (standard output).
    init(capacity: Int, descriptor: Int32) {
        self.capacity = capacity
        self.descriptor = descriptor
        // The thread holds the writer for the life of the process: a writer is never freed.
        let thread = Thread { self.run() }
        thread.name = "sessiond-log"
        thread.start()
    }

    /// Queues one line (with its newline). Never blocks on the output.
    func enqueue(_ line: [UInt8]) {
        state.lock()
        if pending.count < capacity {
            pending.append(line)
        } else {
            dropped += 1
        }
        state.unlock(withValue: Value.waiting)
    }

    /// Waits until every queued line is written, for at most `timeout`: called before the
    /// process exits, so that no line of a clean shutdown is lost.
    public func flush(timeout: Duration = .seconds(2)) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            state.lock()
            let done = pending.isEmpty && !writing
            state.unlock()
            if done { return }
            usleep(2_000)
        }
    }

    /// How long the thread lets lines gather after it is woken, so that under load a whole
    /// batch goes out in one write and the event loops do not wake it for every line.
    static let gathering: UInt32 = 2_000  // microseconds

    private func run() {
        var batch: [UInt8] = []
        while true {
            state.lock(whenValue: Value.waiting)
            state.unlock()
            usleep(Self.gathering)
            state.lock()
            var lines = pending
            pending.removeAll(keepingCapacity: true)
            if dropped > 0 {
                lines.append(Array("log: \(dropped) lines dropped: the log output did not keep up\n".utf8))
                dropped = 0
            }
            writing = true
            state.unlock(withValue: Value.empty)
            batch.removeAll(keepingCapacity: true)
            for line in lines { batch.append(contentsOf: line) }
            writeAll(batch)
            if batch.capacity > 1 << 20 { batch = [] }
            state.lock()
            writing = false
            state.unlock()
        }
    }

    /// Writes all of `line`, retrying on EINTR; gives up on other errors (a log line is not worth
    /// failing a request for).
    private func writeAll(_ line: [UInt8]) {
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
