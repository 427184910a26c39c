import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Paces and logs the listener's failed accepts. Out of file descriptors, `accept` fails at
/// once every time it is tried: the listener then waits before trying again (the backoff this
/// returns, for NIO's `AcceptBackoffHandler`), and the log says so once per episode, not once
/// per failed accept.
final class AcceptErrorLog: Sendable {
    /// How long the listener waits after a failed accept before it tries again.
    static let pause: TimeAmount = .milliseconds(500)

    private let logger: Logger
    /// Accepts failed since the last one that succeeded; 0 outside an episode.
    private let failures = Atomic<Int>(0)

    init(logger: Logger) {
        self.logger = logger
    }

    /// The pause after `error`, logging the first failure of an episode.
    func backoff(after error: IOError) -> TimeAmount? {
        let before = failures.add(1, ordering: .relaxed).oldValue
        guard before == 0 else { return Self.pause }
        if error.errnoCode == EMFILE || error.errnoCode == ENFILE {
            logger.error(
                "out of file descriptors: new connections wait in the listen queue until some close",
                metadata: ["descriptor_limit": "\(DescriptorLimit.current().map(String.init) ?? "unknown")", "error": "\(error)"]
            )
        } else {
            logger.error("accepting a connection failed: trying again shortly", metadata: ["error": "\(error)"])
        }
        return Self.pause
    }

    /// A connection was accepted: ends an episode of failures, logging how many there were.
    func accepted() {
        guard failures.load(ordering: .relaxed) > 0 else { return }
        let count = failures.exchange(0, ordering: .relaxed)
        guard count > 0 else { return }
        logger.notice("accepting connections again", metadata: ["failed_accepts": "\(count)"])
    }
}
