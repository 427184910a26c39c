/// Where the Sentinels of a highly available Redis are, and which master to ask them for.
public struct RedisSentinelConfiguration: Sendable, Hashable {
    /// One Sentinel's address.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Reads `host:port` or `[v6]:port`; the port defaults to 26379.
        /// - Returns: nil for an empty host or a port outside 1...65535.
        public init?(_ text: Substring) {
            var host = text
            var port = 26_379
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else { return nil }
                host = text[text.index(after: text.startIndex)..<close]
                let after = text[text.index(after: close)...]
                if !after.isEmpty {
                    guard after.first == ":", let number = Int(after.dropFirst()) else { return nil }
                    port = number
                }
            } else if let colon = text.lastIndex(of: ":") {
                host = text[..<colon]
                guard let number = Int(text[text.index(after: colon)...]) else { return nil }
                port = number
            }
            guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
            self.host = String(host)
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

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

    /// Reads `host:port[,host:port...]`.
    /// - Returns: nil when the list is empty or an entry is not an address.
    public static func nodes(_ text: String) -> [Node]? {
        let nodes = text.split(separator: ",").map { $0.trimmingCharacters(in: " ") }.compactMap { Node($0) }
        guard !nodes.isEmpty, nodes.count == text.split(separator: ",").count else { return nil }
        return nodes
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var trimmed = self
        while trimmed.first == character { trimmed = trimmed.dropFirst() }
        while trimmed.last == character { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
