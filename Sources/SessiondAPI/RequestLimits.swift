/// Limits every request is held to.
public struct RequestLimits: Sendable, Hashable {
    /// Largest accepted body in bytes (default 64 KiB); larger bodies get 413.
    public var maxBodyBytes: Int
    /// How deep `data` may nest, `data` itself being level 1 (default 32); deeper gets 400.
    public var maxDataDepth: Int
    /// Largest accepted request head in bytes: request line, header lines and their line ends,
    /// the empty line (default 80 KiB). A longer head gets 431, a longer request line 414.
    public var maxHeadBytes: Int

    public init(maxBodyBytes: Int = 65_536, maxDataDepth: Int = 32, maxHeadBytes: Int = 81_920) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDataDepth = maxDataDepth
        self.maxHeadBytes = maxHeadBytes
    }
}
