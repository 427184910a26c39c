#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// Where the service reads the wall-clock time. Tests use `ManualClock` to drive expiry without
/// sleeping.
public protocol SessionClock: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The system's real-time clock (`CLOCK_REALTIME`).
public struct SystemClock: SessionClock {
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

/// A clock that moves only when told to: for tests.
public final class ManualClock: SessionClock {
    private let current: NIOLockedValueBox<Timestamp>

    /// Starts at `start`.
    public init(start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_796_119_200_000)) {
        current = NIOLockedValueBox(start)
    }

    public func now() -> Timestamp { current.withLockedValue { $0 } }

    /// Moves the clock forward by `milliseconds`.
    public func advance(milliseconds: Int64) {
        current.withLockedValue { $0 = $0.adding(milliseconds: milliseconds) }
    }
}
