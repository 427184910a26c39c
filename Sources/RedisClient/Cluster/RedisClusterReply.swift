/// What a Redis Cluster error reply asks the client to do. Every one of them means the command
/// was not run, so sending it again cannot apply it twice.
public enum RedisClusterReply: Sendable, Hashable {
    /// `MOVED <slot> <host:port>`: the slot lives on `node` now; fix the map and send it there.
    case moved(slot: Int, node: RedisNodeAddress)
    /// `ASK <slot> <host:port>`: the slot is migrating and this key may be on `node` already;
    /// send `ASKING` and the command there, once, without changing the map.
    case ask(slot: Int, node: RedisNodeAddress)
    /// `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`: the cluster cannot answer for now;
    /// retry after a pause, within the request's deadline.
    case retryLater(reason: String)
    /// `READONLY`: this node is a replica now (a failover); refresh the map and retry.
    case demoted

    /// Reads the error reply `detail` (as `RedisClientError.serverError` carries it).
    /// - Returns: nil for any other error, which goes back to the caller.
    /// - Parameter answeredBy: the node that replied, for a redirect with an empty host.
    public init?(error detail: String, answeredBy: RedisNodeAddress) {
        let words = detail.split(separator: " ", omittingEmptySubsequences: true)
        guard let code = words.first else { return nil }
        switch code {
        case "MOVED", "ASK":
            guard words.count >= 3, let slot = Int(words[1]), (0..<RedisClusterSlot.count).contains(slot) else { return nil }
            var target = words[2]
            if target.hasPrefix(":") { target = Substring(answeredBy.host) + target }
            guard let node = RedisNodeAddress(target, defaultPort: 6379) else { return nil }
            self = code == "MOVED" ? .moved(slot: slot, node: node) : .ask(slot: slot, node: node)
        case "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN":
            self = .retryLater(reason: String(code))
        case "READONLY":
            self = .demoted
        default:
            return nil
        }
    }
}
