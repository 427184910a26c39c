import Logging
import NIOCore
import ServiceLifecycle
import SessionCore

/// Records the `expired` events of Redis stores (`RedisStore.recordExpiries`): once a second,
/// each store's due expiries are moved from its schedule into its stream. Every sessiond on the
/// same Redis runs one; the script that moves them is atomic, so each expiry is told once.
/// A Redis that does not answer only delays the events (the schedule keeps them).
public struct RedisExpiryRecorder: Service {
    private let stores: [RedisStore]
    private let clock: any SessionClock
    private let interval: Duration
    private let group: any EventLoopGroup
    private let logger: Logger

    /// The most expiries one script moves; a store with more due runs it again at once.
    static var batch: Int { 500 }

    /// - Parameter stores: the stores to visit (those that record no events are skipped).
    public init(
        stores: [RedisStore], clock: any SessionClock = SystemClock(), interval: Duration = .seconds(1), group: any EventLoopGroup,
        logger: Logger
    ) {
        self.stores = stores.filter(\.recordsEvents)
        self.clock = clock
        self.interval = interval
        self.group = group
        self.logger = logger
    }

    /// Visits every store each `interval` until graceful shutdown or cancellation.
    public func run() async throws {
        guard !stores.isEmpty else {
            // Nothing to do, but a service that returns early stops the whole group.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                for store in stores { await recordDue(in: store) }
            }
        }
    }

    /// Moves everything due in `store`, a batch at a time (at most 20 batches a visit).
    func recordDue(in store: RedisStore) async {
        for _ in 0..<20 {
            do {
                let moved = try await store.recordExpiries(at: clock.now(), limit: Self.batch, on: group.next()).get()
                if moved < Self.batch { return }
            } catch {
                // The pool logs a lost Redis once; the schedule keeps what is due.
                logger.debug("could not record expiries", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
