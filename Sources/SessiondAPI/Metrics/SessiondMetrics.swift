import HTTPTransport
import NIOHTTP1
import Prometheus
import SessionCore

/// What `/metrics` shows, in the Prometheus text format (swift-prometheus' registry).
///
/// Every labelled series is made at start for the routes and outcomes the service has, so
/// recording one is a dictionary look-up and an atomic add, without the registry's lock.
public final class SessiondMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// By route, then by status class (1xx at 0 ... 5xx at 4).
    private let requestDurations: [Route: [DurationHistogram]]
    private let storeDurations: [StoreOperation: DurationHistogram]
    private let errors: [String: Counter]
    public let sessionsCreated: Counter
    public let sessionsDeleted: Counter
    public let sessionsRotated: Counter
    public let conflicts: Counter
    public let storeUp: Gauge
    /// Event stream consumers connected now (`GET /events`).
    public let eventConsumers: Gauge
    /// Events written to consumers.
    public let eventsSent: Counter
    /// Consumers cut off because they did not keep up.
    public let eventConsumersCut: Counter
    private let storeRefusals: [SessionStoreError.Refusal: Counter]

    /// The store calls that are timed.
    public enum StoreOperation: String, Sendable, CaseIterable {
        case insert, load, update, remove, list, removeByHandle = "remove_by_handle", ready
        case freeze, withdraw, rotationState = "rotation_state", events
        case limitAdmit = "limit_admit", limitSeen = "limit_seen", limitRelease = "limit_release"
    }

    static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]

    public init() {
        let requestBuckets: [Duration] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        ]
        let requestName = MetricNameDescriptor(
            namespace: "sessiond", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time from a request's head to its response, by route template and status class."
        )
        var requests: [Route: [DurationHistogram]] = [:]
        let registry = self.registry
        for route in Route.allCases {
            requests[route] = Self.statusClasses.map { statusClass in
                registry.makeDurationHistogram(
                    descriptor: requestName, labels: [("route", route.rawValue), ("status_class", statusClass)], buckets: requestBuckets
                )
            }
        }
        requestDurations = requests
        let storeName = MetricNameDescriptor(
            namespace: "sessiond", subsystem: "store", metricName: "command_duration", unitName: "seconds",
            helpText: "Time of one call to the session store (one Redis round trip or script, or one critical section), by operation."
        )
        var store: [StoreOperation: DurationHistogram] = [:]
        for operation in StoreOperation.allCases {
            store[operation] = registry.makeDurationHistogram(descriptor: storeName, labels: [("operation", operation.rawValue)], buckets: requestBuckets)
        }
        storeDurations = store
        let errorName = MetricNameDescriptor(
            namespace: "sessiond", metricName: "errors", unitName: "total", helpText: "Problem responses, by problem type (the slug of its URI)."
        )
        var errors: [String: Counter] = [:]
        for type in ProblemType.all {
            errors[type.slug] = registry.makeCounter(descriptor: errorName, labels: [("type", type.slug)])
        }
        self.errors = errors
        sessionsCreated = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", metricName: "sessions_created", unitName: "total", helpText: "Sessions created (POST /sessions)."
        ))
        sessionsDeleted = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", metricName: "sessions_deleted", unitName: "total",
            helpText: "Live sessions deleted: by DELETE, or revoked through their subject."
        ))
        sessionsRotated = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", metricName: "sessions_rotated", unitName: "total", helpText: "Sessions moved to a new sid by rotate."
        ))
        conflicts = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", metricName: "conditional_write_conflicts", unitName: "total",
            helpText: "Writes refused with 412 because If-Match named another version."
        ))
        storeUp = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "sessiond", subsystem: "store", metricName: "up", unitName: "",
            helpText: "1 when the last call to the session store was answered, 0 when it failed."
        ))
        storeUp.set(to: 1.0)
        eventConsumers = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "sessiond", subsystem: "events", metricName: "consumers", unitName: "",
            helpText: "Clients connected to GET /events now."
        ))
        eventsSent = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", subsystem: "events", metricName: "sent", unitName: "total", helpText: "Lifecycle events written to GET /events clients."
        ))
        eventConsumersCut = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "sessiond", subsystem: "events", metricName: "consumers_cut", unitName: "total",
            helpText: "GET /events clients cut off because they did not read what was sent within --event-consumer-timeout."
        ))
        let refusalName = MetricNameDescriptor(
            namespace: "sessiond", subsystem: "store", metricName: "refusals", unitName: "total",
            helpText: "Commands the session store answered with a refusal: oom (Redis out of memory), readonly (a replica), noperm (ACL), other."
        )
        var refusals: [SessionStoreError.Refusal: Counter] = [:]
        for refusal in SessionStoreError.Refusal.allCases {
            refusals[refusal] = registry.makeCounter(descriptor: refusalName, labels: [("reason", refusal.rawValue)])
        }
        storeRefusals = refusals
    }

    /// Counts one command the store refused.
    func recordRefusal(_ refusal: SessionStoreError.Refusal) {
        storeRefusals[refusal]?.increment()
    }

    /// Records one answered request.
    func recordRequest(route: Route, status: HTTPResponseStatus, duration: Duration) {
        requestDurations[route]?[min(max(Int(status.code) / 100 - 1, 0), 4)].record(duration)
    }

    /// Counts one problem response.
    func recordProblem(slug: String) {
        errors[slug]?.increment()
    }

    /// Records one store call and whether the store answered.
    public func recordStore(_ operation: StoreOperation, duration: Duration, answered: Bool) {
        storeDurations[operation]?.record(duration)
        storeUp.set(to: answered ? 1.0 : 0.0)
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    public func text() -> [UInt8] {
        registry.emitToBuffer()
    }
}
