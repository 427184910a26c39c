import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the listener does when it runs out of file descriptors.
///
/// Out of descriptors, `accept` fails at once, and the listening socket stays readable while
/// connections wait in its queue, so the event loop would try again and again (NIO keeps a
/// listener that failed to accept registered for reads, so its `AcceptBackoffHandler` never
/// gets to pause it). Instead this holds one spare descriptor: when an accept fails for lack of
/// descriptors, the spare is closed so that the next accept succeeds, and that connection is
/// closed at once (shed) and the spare taken again. Each waiting connection then costs one
/// accept and one close, and nothing spins. The log says so once per episode, and once more
/// when a connection is accepted normally again after a second without failures (near the
/// limit, normal and failed accepts can alternate; one episode must not become many lines).
final class DescriptorReserve: Sendable {
    private let logger: Logger
    /// The spare descriptor, or -1 while it is given up.
    private let spare: Atomic<Int32>
    /// Accepts that failed or were shed in this episode; 0 outside an episode.
    private let failures = Atomic<Int>(0)
    /// When an accept last failed or was shed (`NIODeadline` nanoseconds).
    private let lastFailure = Atomic<UInt64>(0)
    /// How long accepts must go without failure before an episode ends.
    static let quietPeriod: UInt64 = 1_000_000_000

    init(logger: Logger) {
        self.logger = logger
        self.spare = Atomic(Self.openSpare())
    }

    deinit {
        let descriptor = spare.exchange(-1, ordering: .relaxed)
        if descriptor >= 0 { close(descriptor) }
    }

    /// The listener's `accept` failed with `error`: gives up the spare descriptor so that the
    /// next accept can succeed (and be shed), and logs the first failure of an episode.
    func acceptFailed(_ error: any Error) {
        let errno = (error as? IOError)?.errnoCode
        let outOfDescriptors = errno == EMFILE || errno == ENFILE
        if outOfDescriptors {
            let descriptor = spare.exchange(-1, ordering: .relaxed)
            if descriptor >= 0 { close(descriptor) }
        }
        lastFailure.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
        guard failures.add(1, ordering: .relaxed).oldValue == 0 else { return }
        if outOfDescriptors {
            logger.error(
                "out of file descriptors: connections beyond the limit are closed as soon as they are accepted; raise ulimit -n or lower --max-connections",
                metadata: ["descriptor_limit": "\(DescriptorLimit.current().map(String.init) ?? "unknown")"]
            )
        } else {
            logger.error("accepting a connection failed", metadata: ["error": "\(error)"])
        }
    }

    /// A connection was accepted. Returns true when it must be closed at once: it could only be
    /// accepted with the spare descriptor (which is then taken again). Otherwise ends an episode
    /// of failures, logging how many connections it cost, once no accept has failed for
    /// `quietPeriod`.
    func shouldShed() -> Bool {
        if spare.load(ordering: .relaxed) < 0 {
            let descriptor = Self.openSpare()
            if descriptor >= 0 {
                let (exchanged, _) = spare.compareExchange(expected: -1, desired: descriptor, ordering: .relaxed)
                if !exchanged { close(descriptor) }
            }
            lastFailure.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
            failures.add(1, ordering: .relaxed)
            return true
        }
        guard failures.load(ordering: .relaxed) > 0 else { return false }
        // Still within the episode while failures are recent: keep it one episode.
        guard NIODeadline.now().uptimeNanoseconds &- lastFailure.load(ordering: .relaxed) >= Self.quietPeriod else { return false }
        let count = failures.exchange(0, ordering: .relaxed)
        if count > 0 {
            logger.notice("accepting connections again", metadata: ["failed_or_shed_accepts": "\(count)"])
        }
        return false
    }

    private static func openSpare() -> Int32 {
        open("/dev/null", O_RDONLY | O_CLOEXEC)
    }
}

/// Hands the listener's accept errors to the `DescriptorReserve` (and keeps them from
/// reaching NIO's default handling, which would log nothing useful).
final class AcceptErrorHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let reserve: DescriptorReserve

    init(reserve: DescriptorReserve) {
        self.reserve = reserve
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reserve.acceptFailed(error)
    }
}
