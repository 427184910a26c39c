import NIOCore

/// Where a Redis Cluster can be reached first (any of its nodes: the client reads the map of
/// the others from them), and how hard to follow its redirects.
public struct RedisClusterConfiguration: Sendable, Hashable {
    /// Nodes to ask for the map of slots when no other node is known or reachable.
    public var seeds: [RedisNodeAddress]
    /// Most `MOVED`/`ASK` redirects one command follows before it fails.
    public var maxRedirects: Int
    /// Least time between two reads of the whole map (`CLUSTER SLOTS`).
    public var minRefreshInterval: TimeAmount

    public init(seeds: [RedisNodeAddress], maxRedirects: Int = 5, minRefreshInterval: TimeAmount = .milliseconds(200)) {
        self.seeds = seeds
        self.maxRedirects = maxRedirects
        self.minRefreshInterval = minRefreshInterval
    }

    /// Reads `host:port[,host:port...]` (the port defaults to 6379).
    /// - Returns: nil when the list is empty or an entry is not an address.
    public static func seeds(_ text: String) -> [RedisNodeAddress]? {
        RedisNodeAddress.list(text, defaultPort: 6379)
    }
}
