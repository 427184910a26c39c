import NIOCore

/// What a command does after a cluster node failed it: follow a redirect, retry after a pause
/// (within the request's deadline), or fail; and whether the map of slots must be read again.
/// A plain value, so every rule is tested without sockets.
///
/// Only failures that mean the command did not run are retried: redirects, `TRYAGAIN`,
/// `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`, and a node that could not be reached
/// before the command was sent. A connection lost or a timeout with the command in flight fails
/// it (it may have run, and the caller's scripts are not idempotent).
public struct RedisClusterRetryPolicy: Sendable, Hashable {
    public var maxRedirects: Int
    public var firstPause: TimeAmount
    public var maxPause: TimeAmount

    public init(maxRedirects: Int, firstPause: TimeAmount = .milliseconds(10), maxPause: TimeAmount = .milliseconds(200)) {
        self.maxRedirects = maxRedirects
        self.firstPause = firstPause
        self.maxPause = maxPause
    }

    public enum Decision: Sendable, Hashable {
        /// Send the command to `node` (after `ASKING` when `asking`); for `MOVED`, `slot` now
        /// belongs to `node` in this loop's map.
        case redirect(node: RedisNodeAddress, asking: Bool, movedSlot: Int?)
        /// Send it again after `pause`, to the slot's primary then.
        case retry(after: TimeAmount, refresh: Bool)
        /// Give the error to the caller.
        case fail(refresh: Bool)
    }

    /// - Parameters:
    ///   - error: how `node` failed the command; `node` is nil when no node was asked (no
    ///     primary known for the slot).
    ///   - redirects: redirects followed so far; `retries`: pauses taken so far.
    public func decide(
        _ error: RedisClientError, from node: RedisNodeAddress?, redirects: Int, retries: Int, now: NIODeadline, deadline: NIODeadline
    ) -> Decision {
        switch error.code {
        case .serverError:
            guard let node else { return .fail(refresh: false) }
            switch RedisClusterReply(error: error.detail, answeredBy: node) {
            case let .moved(slot, target)?:
                return redirects < maxRedirects ? .redirect(node: target, asking: false, movedSlot: slot) : .fail(refresh: true)
            case let .ask(_, target)?:
                return redirects < maxRedirects ? .redirect(node: target, asking: true, movedSlot: nil) : .fail(refresh: true)
            case let .retryLater(reason)?:
                return pause(retries: retries, now: now, deadline: deadline, refresh: reason == "CLUSTERDOWN" || reason == "MASTERDOWN")
            case .demoted?:
                return pause(retries: retries, now: now, deadline: deadline, refresh: true)
            case nil:
                return .fail(refresh: false)
            }
        case .notConnected:
            return pause(retries: retries, now: now, deadline: deadline, refresh: true)
        case .connectionClosed, .timeout, .handshake, .protocolError:
            return .fail(refresh: true)
        case .overloaded, .outOfMemory:
            return .fail(refresh: false)
        }
    }

    /// The pause before retry number `retries + 1`: `firstPause` doubling up to `maxPause`.
    public func pause(after retries: Int) -> TimeAmount {
        let doubled = firstPause.nanoseconds << Int64(min(retries, 20))
        return .nanoseconds(min(doubled, maxPause.nanoseconds))
    }

    private func pause(retries: Int, now: NIODeadline, deadline: NIODeadline, refresh: Bool) -> Decision {
        let wait = pause(after: retries)
        return now + wait < deadline ? .retry(after: wait, refresh: refresh) : .fail(refresh: refresh)
    }
}
