/// Where one Redis server (a data node, a cluster node or a Sentinel) listens.
public struct RedisNodeAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port`, `[v6]:port`, or a host alone (then `defaultPort`).
    /// - Returns: nil for an empty host or a port outside 1...65535.
    public init?(_ text: Substring, defaultPort: Int) {
        var host = text
        var port = defaultPort
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

    /// Reads `host:port[,host:port...]` (spaces around entries allowed).
    /// - Returns: nil when the list is empty or an entry is not an address.
    public static func list(_ text: String, defaultPort: Int) -> [RedisNodeAddress]? {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false)
        let nodes = entries.compactMap { RedisNodeAddress($0.trimmingSpaces(), defaultPort: defaultPort) }
        guard !nodes.isEmpty, nodes.count == entries.count else { return nil }
        return nodes
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var trimmed = self
        while trimmed.first == " " { trimmed = trimmed.dropFirst() }
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
