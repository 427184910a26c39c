import NIOCore

/// The connections of one event loop and the requests that wait for them, as a value type:
/// events go in (a request, a connection up, failed or closed, a reply, writability, a tick),
/// actions come out (connect, send, fail, schedule a tick). No sockets, no clock of its own:
/// `RedisLoopPool` drives it on its event loop, and the tests drive it on a manual clock.
///
/// The rules:
/// - A request carries its deadline from arrival (`--redis-timeout` after it came in), which
///   covers both its wait here and its reply.
/// - A request goes to a ready connection that is writable and has fewer than `maxInFlight`
///   commands in flight, the least loaded first; else it waits in a FIFO of at most `maxQueued`
///   (beyond that it fails at once with `.overloaded`). A waiting request fails with `.timeout`
///   at its deadline, or at once with `.notConnected` when no connection is up or being opened
///   and none will be tried before its deadline.
/// - Connections open on demand (while requests wait), at most one attempt per slot at a time.
///   A failed attempt waits `minBackoff`, doubling with each failure in a row up to
///   `maxBackoff`; so does a connection that closes less than `stableAfter` after it came up
///   (a Redis that accepts and drops at once is not hammered). A connection that was up longer
///   is reopened at once.
public struct RedisLoopPoolStateMachine: Sendable {
    public typealias RequestID = UInt64

    public struct Configuration: Sendable, Hashable {
        public var slots: Int
        public var maxInFlight: Int
        public var maxQueued: Int
        public var minBackoff: TimeAmount
        public var maxBackoff: TimeAmount
        public var stableAfter: TimeAmount

        public init(
            slots: Int, maxInFlight: Int = 1024, maxQueued: Int = 4096, minBackoff: TimeAmount = .milliseconds(50),
            maxBackoff: TimeAmount = .seconds(2), stableAfter: TimeAmount = .seconds(1)
        ) {
            self.slots = max(1, slots)
            self.maxInFlight = max(1, maxInFlight)
            self.maxQueued = max(0, maxQueued)
            self.minBackoff = minBackoff
            self.maxBackoff = max(minBackoff, maxBackoff)
            self.stableAfter = stableAfter
        }
    }

    /// Why requests fail here (the driver turns these into `RedisClientError`s).
    public enum Failure: Sendable, Hashable {
        /// The request's deadline passed while it waited for a connection.
        case timeout
        /// No connection is up and none will be tried before the request's deadline.
        case notConnected
        /// The wait queue is full.
        case overloaded
        /// The pool was shut down.
        case shutDown
    }

    public enum Action: Sendable, Hashable {
        /// Open a connection for `slot`; report back with `attempt`.
        case connect(slot: Int, attempt: UInt64)
        /// Write the request on the connection of `slot` (made by `attempt`).
        case send(RequestID, slot: Int, attempt: UInt64)
        case fail([RequestID], Failure)
        /// Call `tick` at this time (replaces any earlier schedule).
        case scheduleTick(NIODeadline)
        /// Close every connection (after `shutdown`).
        case closeAll
    }

    private enum Slot: Sendable, Hashable {
        /// Down; may be tried from `retryAt` on. `failures` in a row so far.
        case idle(retryAt: NIODeadline, failures: Int)
        case connecting(attempt: UInt64, failures: Int)
        case ready(attempt: UInt64, inFlight: Int, writable: Bool, since: NIODeadline, failures: Int)
    }

    private struct Waiting: Sendable, Hashable {
        let id: RequestID
        let deadline: NIODeadline
    }

    public let configuration: Configuration
    private var slots: [Slot]
    private var queue = CircularBuffer<Waiting>()
    private var nextAttempt: UInt64 = 0
    private var shutDown = false
    private var scheduledTick: NIODeadline?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.slots = Array(repeating: .idle(retryAt: .uptimeNanoseconds(0), failures: 0), count: configuration.slots)
    }

    // MARK: - Events

    /// A request arrived at `now`; it must be answered by `deadline`.
    public mutating func request(_ id: RequestID, deadline: NIODeadline, now: NIODeadline) -> [Action] {
        guard !shutDown else { return [.fail([id], .shutDown)] }
        if queue.isEmpty, let slot = availableSlot() {
            return [take(slot, id)]
        }
        guard queue.count < configuration.maxQueued else { return [.fail([id], .overloaded)] }
        queue.append(Waiting(id: id, deadline: deadline))
        return settle(now: now)
    }

    /// The connection of `slot` made by `attempt` is up (its handshake done).
    public mutating func connected(slot: Int, attempt: UInt64, now: NIODeadline) -> [Action] {
        guard case let .connecting(current, failures) = slots[slot], current == attempt else { return [] }
        slots[slot] = .ready(attempt: attempt, inFlight: 0, writable: true, since: now, failures: failures)
        if shutDown { return [.closeAll] }
        return settle(now: now)
    }

    /// The attempt of `slot` failed (connect, TLS or handshake).
    public mutating func connectFailed(slot: Int, attempt: UInt64, now: NIODeadline) -> [Action] {
        guard case let .connecting(current, failures) = slots[slot], current == attempt else { return [] }
        slots[slot] = .idle(retryAt: now + backoff(after: failures + 1), failures: failures + 1)
        return settle(now: now)
    }

    /// The connection of `slot` made by `attempt` closed; its commands in flight have failed.
    public mutating func connectionClosed(slot: Int, attempt: UInt64, now: NIODeadline) -> [Action] {
        guard case let .ready(current, _, _, since, failures) = slots[slot], current == attempt else { return [] }
        if now - since < configuration.stableAfter {
            // Dropped right after it came up: as good as a failed attempt.
            slots[slot] = .idle(retryAt: now + backoff(after: failures + 1), failures: failures + 1)
        } else {
            slots[slot] = .idle(retryAt: now, failures: 0)
        }
        return settle(now: now)
    }

    /// A command sent on `slot`'s connection `attempt` completed (replied or failed).
    public mutating func completed(slot: Int, attempt: UInt64, now: NIODeadline) -> [Action] {
        guard case let .ready(current, inFlight, writable, since, failures) = slots[slot], current == attempt else { return [] }
        slots[slot] = .ready(attempt: current, inFlight: max(0, inFlight - 1), writable: writable, since: since, failures: failures)
        return queue.isEmpty ? [] : settle(now: now)
    }

    /// The channel of `slot`'s connection became writable or not.
    public mutating func writabilityChanged(slot: Int, attempt: UInt64, writable: Bool, now: NIODeadline) -> [Action] {
        guard case let .ready(current, inFlight, _, since, failures) = slots[slot], current == attempt else { return [] }
        slots[slot] = .ready(attempt: current, inFlight: inFlight, writable: writable, since: since, failures: failures)
        return writable && !queue.isEmpty ? settle(now: now) : []
    }

    /// The scheduled time came.
    public mutating func tick(now: NIODeadline) -> [Action] {
        scheduledTick = nil
        return settle(now: now)
    }

    /// Stops: waiting requests fail, connections close, later requests fail.
    public mutating func shutdown() -> [Action] {
        shutDown = true
        var actions: [Action] = [.closeAll]
        if !queue.isEmpty {
            actions.append(.fail(queue.map(\.id), .shutDown))
            queue.removeAll()
        }
        return actions
    }

    // MARK: - Reading

    /// How many requests wait for a connection.
    public var waitingCount: Int { queue.count }

    /// How many slots have a connection up.
    public var readyCount: Int {
        slots.reduce(0) { count, slot in
            if case .ready = slot { return count + 1 }
            return count
        }
    }

    /// Whether the last attempt of every slot failed and none is up (for logs and readiness).
    public var isFailing: Bool {
        slots.allSatisfy { slot in
            switch slot {
            case let .idle(_, failures): return failures > 0
            case let .connecting(_, failures): return failures > 0
            case .ready: return false
            }
        }
    }

    // MARK: - Rules

    /// Sends what can be sent, fails what waited too long or cannot hope, opens connections for
    /// what waits, and schedules the next tick.
    private mutating func settle(now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        var expired: [RequestID] = []
        while let first = queue.first {
            if first.deadline <= now {
                expired.append(first.id)
                queue.removeFirst()
            } else if let slot = availableSlot() {
                queue.removeFirst()
                actions.append(take(slot, first.id))
            } else {
                break
            }
        }
        if !expired.isEmpty { actions.append(.fail(expired, .timeout)) }
        guard !queue.isEmpty, !shutDown else { return actions }
        for index in slots.indices {
            if case let .idle(retryAt, failures) = slots[index], retryAt <= now {
                nextAttempt &+= 1
                slots[index] = .connecting(attempt: nextAttempt, failures: failures)
                actions.append(.connect(slot: index, attempt: nextAttempt))
            }
        }
        actions += failHopeless()
        if let next = nextTick(), next != scheduledTick {
            scheduledTick = next
            actions.append(.scheduleTick(next))
        }
        return actions
    }

    /// Fails, at once, the waiting requests whose deadline comes before any connection could:
    /// none is up or being opened, and the earliest retry is after the deadline.
    private mutating func failHopeless() -> [Action] {
        var earliestRetry: NIODeadline?
        for slot in slots {
            switch slot {
            case .ready, .connecting: return []
            case let .idle(retryAt, _): earliestRetry = min(earliestRetry ?? retryAt, retryAt)
            }
        }
        guard let earliestRetry else { return [] }
        var hopeless: [RequestID] = []
        var kept = CircularBuffer<Waiting>(initialCapacity: queue.count)
        for waiting in queue {
            if waiting.deadline <= earliestRetry { hopeless.append(waiting.id) } else { kept.append(waiting) }
        }
        guard !hopeless.isEmpty else { return [] }
        queue = kept
        return [.fail(hopeless, .notConnected)]
    }

    /// The earliest of the first waiting request's deadline and the next retry, while requests wait.
    private func nextTick() -> NIODeadline? {
        guard let first = queue.first else { return nil }
        var next = first.deadline
        for case let .idle(retryAt, _) in slots { next = min(next, retryAt) }
        return next
    }

    /// The ready, writable slot with the fewest commands in flight, below the cap.
    private func availableSlot() -> Int? {
        var best: (index: Int, inFlight: Int)?
        for index in slots.indices {
            guard case let .ready(_, inFlight, writable, _, _) = slots[index], writable, inFlight < configuration.maxInFlight else { continue }
            if let current = best, current.inFlight <= inFlight { continue }
            best = (index, inFlight)
        }
        return best?.index
    }

    /// Counts `id` in flight on `slot` (which `availableSlot` gave).
    private mutating func take(_ slot: Int, _ id: RequestID) -> Action {
        guard case let .ready(attempt, inFlight, writable, since, failures) = slots[slot] else {
            preconditionFailure("take(\(slot)) on a slot that is not ready")
        }
        slots[slot] = .ready(attempt: attempt, inFlight: inFlight + 1, writable: writable, since: since, failures: failures)
        return .send(id, slot: slot, attempt: attempt)
    }

    /// The wait before the attempt that follows `failures` failures in a row.
    private func backoff(after failures: Int) -> TimeAmount {
        var wait = configuration.minBackoff
        var remaining = failures - 1
        while remaining > 0 && wait < configuration.maxBackoff {
            wait = wait * 2
            remaining -= 1
        }
        return min(wait, configuration.maxBackoff)
    }
}
