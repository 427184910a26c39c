/// Limits every request is held to.
public struct RequestLimits: Sendable, Hashable {
    /// Largest accepted body in bytes (default 64 KiB); larger bodies get 413.
    public var maxBodyBytes: Int
    /// How deep `data` may nest, `data` itself being level 1 (default 32); deeper gets 400.
    public var maxDataDepth: Int

    public init(maxBodyBytes: Int = 65_536, maxDataDepth: Int = 32) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDataDepth = maxDataDepth
    }
}
