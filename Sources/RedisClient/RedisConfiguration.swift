import NIOCore

/// Where and how to reach Redis.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// ACL user name (Redis 6+); nil for the default user.
    public var username: String?
    /// Password for AUTH; nil for none.
    public var password: String?
    /// The database SELECTed on connect.
    public var database: Int
    /// Whether connections use TLS (`rediss://`); the TLS settings themselves are the
    /// `RedisChannelSecurity` given to the pool.
    public var tls: Bool
    /// The Sentinels to ask for the master's address, or nil to connect to `host` and `port`.
    public var sentinel: RedisSentinelConfiguration?
    /// The seed nodes of a Redis Cluster, or nil when Redis is not a cluster. The URL's host and
    /// port are then unused; its user, password and TLS apply to every node (database 0 only).
    public var cluster: RedisClusterConfiguration?
    /// Connections each event loop keeps (commands are pipelined on them).
    public var connectionsPerLoop: Int
    public var connectTimeout: TimeAmount
    /// How long a command may wait for its reply before it fails (and the connection is reset).
    public var commandTimeout: TimeAmount
    /// Reconnection waits double from 50 ms up to this.
    public var maxBackoff: TimeAmount
    /// Most commands in flight on one connection; more wait for room (and writability).
    public var maxInFlightPerConnection: Int
    /// Most commands of one event loop waiting for a connection; more fail at once.
    public var maxWaitingPerLoop: Int

    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0,
        connectionsPerLoop: Int = 1, connectTimeout: TimeAmount = .seconds(1), commandTimeout: TimeAmount = .seconds(1),
        maxBackoff: TimeAmount = .seconds(2), maxInFlightPerConnection: Int = 1024, maxWaitingPerLoop: Int = 4096
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = false
        self.sentinel = nil
        self.cluster = nil
        self.connectionsPerLoop = connectionsPerLoop
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maxBackoff = maxBackoff
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.maxWaitingPerLoop = maxWaitingPerLoop
    }

    /// Reads `redis://[[user]:password@]host[:port][/db]` (user and password percent-decoded),
    /// or `rediss://…` for TLS.
    /// - Returns: nil when the text is not such a URL (other schemes, bad port or database).
    public init?(url: String, base: RedisConfiguration = .init()) {
        let scheme: String
        if url.hasPrefix("redis://") {
            scheme = "redis://"
        } else if url.hasPrefix("rediss://") {
            scheme = "rediss://"
        } else {
            return nil
        }
        self = base
        tls = scheme == "rediss://"
        var rest = Substring(url.dropFirst(scheme.count))
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
                if username == nil, password == nil { return nil }
            } else {
                // redis://password@host, as redis-cli reads it.
                password = Self.percentDecoded(credentials)
            }
            if password == nil { return nil }
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let number = Int(db), number >= 0 else { return nil }
                database = number
            }
        }
        if hostPort.hasPrefix("[") {
            // [::1]:6379
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let number = Int(after.dropFirst()), (1...65_535).contains(number) else { return nil }
                port = number
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65_535).contains(number) else { return nil }
            port = number
        } else {
            host = String(hostPort)
        }
        if host.isEmpty { return nil }
    }

    /// The URL without the password, for logs.
    public var redactedURL: String {
        let user = username.map { "\($0):***@" } ?? (password == nil ? "" : ":***@")
        let shownHost = host.contains(":") ? "[\(host)]" : host
        if let cluster {
            let nodes = cluster.seeds.map(\.description).joined(separator: ",")
            return "\(tls ? "rediss" : "redis")://\(user)cluster of \(nodes)"
        }
        if let sentinel {
            let nodes = sentinel.nodes.map(\.description).joined(separator: ",")
            return "\(tls ? "rediss" : "redis")://\(user)master \(sentinel.masterName) of Sentinels \(nodes)/\(database)"
        }
        return "\(tls ? "rediss" : "redis")://\(user)\(shownHost):\(port)/\(database)"
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
