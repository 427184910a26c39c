import Synchronization

/// Where the server is in its life: serving, or draining after a shutdown signal. `/readyz`
/// answers 503 once draining begins, so load balancers stop sending new requests while those
/// in flight finish.
public final class ServerLifecycle: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    /// Whether shutdown has begun.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Marks the start of shutdown; from now on `/readyz` answers 503.
    public func beginDraining() { draining.store(true, ordering: .relaxed) }
}
