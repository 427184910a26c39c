/// What the Redis client reports for metrics. Called on event loops: implementations must be
/// quick and must not block.
public protocol RedisClientObserver: Sendable {
    /// A cluster node answered `MOVED` (`ask` false) or `ASK` (`ask` true) and the command was
    /// sent again to the node it named.
    func redirected(ask: Bool)
    /// A new map of the cluster's slots was read.
    func topologyRefreshed()
    /// The master changed: a cluster primary was replaced (`from` names it), or the Sentinels
    /// switched the master (`from` is the old master's `host:port`).
    func failedOver(from: String)
    /// Where the latencies of commands sent to `node` go; asked once per node and event loop.
    func latency(of node: RedisNodeAddress) -> any RedisLatencyRecorder
}

/// Records the latency of commands to one node (a histogram).
public protocol RedisLatencyRecorder: Sendable {
    /// One command, from its send to its reply or failure.
    func record(_ duration: Duration)
}
