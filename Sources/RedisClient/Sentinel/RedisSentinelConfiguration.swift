/// Where the Sentinels of a highly available Redis are, and which master to ask them for.
public struct RedisSentinelConfiguration: Sendable, Hashable {
    /// One Sentinel's address (the port defaults to 26379).
    public typealias Node = RedisNodeAddress

    /// The Sentinels, asked in turn.
    public var nodes: [Node]
    /// The master's name as the Sentinels know it (`sentinel monitor <name> ...`).
    public var masterName: String
    /// ACL user and password of the Sentinels themselves (the data connections use the URL's).
    public var username: String?
    public var password: String?

    public init(nodes: [Node], masterName: String, username: String? = nil, password: String? = nil) {
        self.nodes = nodes
        self.masterName = masterName
        self.username = username
        self.password = password
    }

    /// Reads `host:port[,host:port...]` (the port defaults to 26379).
    /// - Returns: nil when the list is empty or an entry is not an address.
    public static func nodes(_ text: String) -> [Node]? {
        RedisNodeAddress.list(text, defaultPort: 26_379)
    }
}
