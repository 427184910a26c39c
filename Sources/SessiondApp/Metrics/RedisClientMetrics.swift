import Prometheus
import RedisClient

/// The Redis client's events as Prometheus series in sessiond's registry:
/// `sessiond_redis_redirects_total{kind}`, `sessiond_redis_topology_refreshes_total`,
/// `sessiond_redis_failovers_total` and `sessiond_redis_command_duration_seconds{node}`.
final class RedisClientMetrics: RedisClientObserver {
    private let registry: PrometheusCollectorRegistry
    private let moved: Counter
    private let asked: Counter
    private let refreshes: Counter
    private let failovers: Counter
    private static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    ]
    private static var latencyName: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sessiond", subsystem: "redis", metricName: "command_duration", unitName: "seconds",
            helpText: "Time from sending one command to a Redis Cluster node to its reply or failure, by node (host:port)."
        )
    }

    /// Makes the counters now, so that they show 0 before anything happened.
    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        let redirects = MetricNameDescriptor(
            namespace: "sessiond", subsystem: "redis", metricName: "redirects", unitName: "total",
            helpText: "Commands a Redis Cluster node redirected (MOVED: the slot moved; ASK: the slot is migrating) and that were sent again."
        )
        moved = registry.makeCounter(descriptor: redirects, labels: [("kind", "moved")])
        asked = registry.makeCounter(descriptor: redirects, labels: [("kind", "ask")])
        refreshes = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", subsystem: "redis", metricName: "topology_refreshes", unitName: "total",
            helpText: "Reads of the Redis Cluster's map of slots (CLUSTER SLOTS)."
        ))
        failovers = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", subsystem: "redis", metricName: "failovers", unitName: "total",
            helpText: "Masters replaced: a Redis Cluster primary that serves no slot any more, or a +switch-master from the Sentinels."
        ))
    }

    func redirected(ask: Bool) {
        (ask ? asked : moved).increment()
    }

    func topologyRefreshed() {
        refreshes.increment()
    }

    func failedOver(from: String) {
        failovers.increment()
    }

    func latency(of node: RedisNodeAddress) -> any RedisLatencyRecorder {
        NodeLatency(histogram: registry.makeDurationHistogram(
            descriptor: Self.latencyName, labels: [("node", node.description)], buckets: Self.buckets
        ))
    }

    private struct NodeLatency: RedisLatencyRecorder {
        let histogram: DurationHistogram

        func record(_ duration: Duration) {
            histogram.record(duration)
        }
    }
}
