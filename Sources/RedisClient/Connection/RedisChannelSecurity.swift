import NIOCore

/// What secures a new Redis connection before any command is written: TLS for `rediss://`
/// (`RedisTLS` in its own module, so that this one needs no TLS library), or nothing.
public protocol RedisChannelSecurity: Sendable {
    /// Adds the handlers that secure `channel` (a TLS client handler) at the front of its
    /// pipeline, on the channel's event loop, before the Redis handlers are added.
    /// - Parameter host: the host name or address that was dialled (for SNI and verification).
    /// - Throws: when the handlers cannot be made; the connection attempt then fails.
    func secure(_ channel: any Channel, host: String) throws
}
