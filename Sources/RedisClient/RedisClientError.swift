/// Why a Redis command did not get an answer.
public struct RedisClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure: callers switch over it (new cases may come).
    public enum Code: Hashable, Sendable {
        case connectionClosed
        case timeout
        case protocolError
        case notConnected
        case outOfMemory
        case serverError
        case handshake
        case overloaded
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, for logs; never holds command arguments.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The connection closed or failed with this command pending.
    public static func connectionClosed(_ detail: String) -> RedisClientError { .init(.connectionClosed, detail) }
    /// No reply within the command timeout (the connection is then closed and reopened).
    public static func timeout(_ detail: String) -> RedisClientError { .init(.timeout, detail) }
    /// The server's bytes were not RESP.
    public static func protocolError(_ detail: String) -> RedisClientError { .init(.protocolError, detail) }
    /// No connection is up right now (reconnecting with backoff).
    public static func notConnected(_ detail: String) -> RedisClientError { .init(.notConnected, detail) }
    /// hiredis could not allocate.
    public static let outOfMemory = RedisClientError(.outOfMemory, "hiredis could not allocate")
    /// The server answered with an error reply (`-ERR …`).
    public static func serverError(_ detail: String) -> RedisClientError { .init(.serverError, detail) }
    /// Too many commands wait for a connection (the pool's bounded queue is full).
    public static func overloaded(_ detail: String) -> RedisClientError { .init(.overloaded, detail) }
    /// AUTH, SELECT or PING on connect failed.
    public static func handshake(_ detail: String) -> RedisClientError { .init(.handshake, detail) }

    /// Compares the kind only.
    public static func == (lhs: RedisClientError, rhs: RedisClientError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "\(code): \(detail)" }
}
