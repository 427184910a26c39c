/// Every setting of `sessiond`: one name, three spellings (a flag, an environment variable, a
/// default). `--help` and the README's table are written from these.
public enum Setting: String, CaseIterable, Sendable {
    case host
    case port
    case store
    case redisURL = "redis-url"
    case redisPrefix = "redis-prefix"
    case redisConnections = "redis-connections"
    case redisTimeout = "redis-timeout"
    case redisTLSCAFile = "redis-tls-ca-file"
    case redisTLSCertFile = "redis-tls-cert-file"
    case redisTLSKeyFile = "redis-tls-key-file"
    case redisTLSInsecure = "redis-tls-insecure"
    case redisSentinels = "redis-sentinels"
    case redisSentinelMaster = "redis-sentinel-master"
    case redisSentinelUsername = "redis-sentinel-username"
    case redisSentinelPassword = "redis-sentinel-password"
    case redisCluster = "redis-cluster"
    case lifetime
    case permanentLifetime = "permanent-lifetime"
    case absoluteLifetime = "absolute-lifetime"
    case maxLifetime = "max-lifetime"
    case rotationGrace = "rotation-grace"
    case maxBodyBytes = "max-body-bytes"
    case maxDataDepth = "max-data-depth"
    case idleTimeout = "idle-timeout"
    case sweepInterval = "sweep-interval"
    case threads
    case logLevel = "log-level"
    case logFormat = "log-format"
    case apiKeysFile = "api-keys-file"
    case allowUnauthenticated = "allow-unauthenticated"
    case metricsAuth = "metrics-auth"
    case maxSessions = "max-sessions"
    case maxSessionsPerSubject = "max-sessions-per-subject"
    case eventHistory = "event-history"
    case eventConsumerTimeout = "event-consumer-timeout"
    case dataDir = "data-dir"
    case fsync
    case maxConnections = "max-connections"
    case requestTimeout = "request-timeout"
    case drainDelay = "drain-delay"
    case shutdownGrace = "shutdown-grace"

    /// `--port`
    public var flag: String { "--" + rawValue }

    /// `SESSIOND_PORT`
    public var environmentVariable: String {
        "SESSIOND_" + rawValue.uppercased().replacingDashes()
    }

    /// The value used when neither flag nor environment gives one; nil when the setting is off
    /// by default.
    public var defaultValue: String? {
        switch self {
        case .host: return "127.0.0.1"
        case .port: return "8080"
        case .store: return "memory"
        case .redisURL: return "redis://127.0.0.1:6379/0"
        case .redisPrefix: return "sessiond:"
        case .redisConnections: return "1"
        case .redisTimeout: return "1s"
        case .redisTLSCAFile: return nil
        case .redisTLSCertFile: return nil
        case .redisTLSKeyFile: return nil
        case .redisTLSInsecure: return "false"
        case .redisSentinels: return nil
        case .redisSentinelMaster: return nil
        case .redisSentinelUsername: return nil
        case .redisSentinelPassword: return nil
        case .redisCluster: return nil
        case .lifetime: return "1d"
        case .permanentLifetime: return "31d"
        case .absoluteLifetime: return nil
        case .maxLifetime: return nil
        case .rotationGrace: return "0s"
        case .maxBodyBytes: return "65536"
        case .maxDataDepth: return "32"
        case .idleTimeout: return "60s"
        case .sweepInterval: return "10s"
        case .threads: return nil
        case .logLevel: return "info"
        case .logFormat: return "text"
        case .apiKeysFile: return nil
        case .allowUnauthenticated: return "false"
        case .metricsAuth: return "key"
        case .maxSessions: return nil
        case .maxSessionsPerSubject: return "0"
        case .eventHistory: return "10000"
        case .eventConsumerTimeout: return "10s"
        case .dataDir: return nil
        case .fsync: return "everysec"
        case .maxConnections: return "10000"
        case .requestTimeout: return "30s"
        case .drainDelay: return "0s"
        case .shutdownGrace: return "25s"
        }
    }

    /// What the setting does.
    public var summary: String {
        switch self {
        case .host: return "Address to listen on."
        case .port: return "TCP port to listen on (0 picks a free one; the start-up line says which)."
        case .store: return "Session store: memory (embedded; lost on exit unless --data-dir is given) or redis."
        case .redisURL: return "With --store redis: redis://[user:password@]host:port[/db]."
        case .redisPrefix: return "With --store redis: prefix of every session key."
        case .redisConnections: return "With --store redis: connections per event loop (commands are pipelined on them)."
        case .redisTimeout: return "With --store redis: how long a command may wait for Redis before the request gets 503 (e.g. 500ms, 1s)."
        case .redisTLSCAFile: return "With a rediss:// URL: PEM file of the CA certificates to trust instead of the system's."
        case .redisTLSCertFile: return "With a rediss:// URL: PEM file of a client certificate, for Redis servers that require mutual TLS."
        case .redisTLSKeyFile: return "With a rediss:// URL: PEM file of the client certificate's private key."
        case .redisTLSInsecure: return "With a rediss:// URL: true skips every check of Redis's certificate (never in production; logged as a warning)."
        case .redisSentinels: return "With --store redis: Sentinels as host:port[,host:port...]; the master's address then comes from them (the URL's host and port are not used; its user, password, database and rediss:// are)."
        case .redisSentinelMaster: return "With --redis-sentinels: the master's name as the Sentinels monitor it."
        case .redisSentinelUsername: return "With --redis-sentinels: ACL user of the Sentinels themselves."
        case .redisSentinelPassword: return "With --redis-sentinels: password of the Sentinels themselves."
        case .redisCluster: return "With --store redis: nodes of a Redis Cluster as host:port[,host:port...] (any few; the others are learnt from them); the URL's host and port are then not used, its user, password and rediss:// are (database 0 only)."
        case .lifetime: return "Idle lifetime of sessions that are not permanent (seconds, or 90s, 30m, 12h, 1d; at most 36500d)."
        case .permanentLifetime: return "Idle lifetime of permanent sessions."
        case .absoluteLifetime: return "Cap on any session's life counted from its creation, whatever its activity (off by default)."
        case .maxLifetime: return "Longest lifetime an app may give one session (\"lifetime\" in a body, in seconds); longer gets 422."
        case .rotationGrace: return "After a rotation, how long the old sid still reads the session as it was then (read-only; at most 60s); a rotate's ?grace= may ask for less."
        case .maxBodyBytes: return "Largest request body accepted, in bytes; larger gets 413."
        case .maxDataDepth: return "How deep session data may nest (data itself is level 1); deeper gets 400."
        case .idleTimeout: return "Close connections that send nothing for this long."
        case .sweepInterval: return "How often the memory store removes expired sessions."
        case .threads: return "Event loop threads."
        case .logLevel: return "trace, debug, info, notice, warning, error or critical; info logs one line per request."
        case .logFormat: return "text, or json for one JSON object per line."
        case .apiKeysFile: return "File of namespace:key lines (keys of 32+ characters); every session call then needs Authorization: Bearer <key>, and sees only its namespace."
        case .allowUnauthenticated: return "true to serve without --api-keys-file on an address other than loopback (refused otherwise)."
        case .metricsAuth: return "key: /metrics needs an API key like the session calls (when there are keys); none: /metrics is open."
        case .maxSessions: return "With --store memory: most sessions per namespace; a create beyond it gets 507 (off by default)."
        case .maxSessionsPerSubject: return "Most live sessions one subject may have (0: no limit); a create beyond it revokes the least recently seen, or with ?on_limit=refuse gets 409."
        case .eventHistory: return "How many lifecycle events each namespace keeps for GET /events to resume from (0: no events); in memory on the embedded store, a Redis Stream on Redis; off on Redis Cluster."
        case .eventConsumerTimeout: return "A GET /events client that leaves what was sent unread for this long is cut off (it may resume with Last-Event-ID)."
        case .dataDir: return "With --store memory: a directory that makes the store durable (an append-only log with snapshots, kept across restarts); made when absent, used by one sessiond at a time."
        case .fsync: return "With --data-dir: always (a write is answered once fsynced; writes arriving together share one fsync), everysec (fsync once a second: a power failure loses at most about the last second, a crash nothing) or no (the kernel decides)."
        case .maxConnections: return "Most open client connections; more are closed at once."
        case .requestTimeout: return "How long a client may take to send a whole request, from its first byte; slower gets 408 and the connection is closed."
        case .drainDelay: return "On SIGTERM: how long /readyz answers 503 while new requests are still served, before the listener closes."
        case .shutdownGrace: return "On SIGTERM, after the drain delay: how long requests in flight may take before their connections are closed."
        }
    }

    /// The help line for `--help`: summary, environment variable and default.
    public var help: String {
        "\(summary) (env: \(environmentVariable); default: \(defaultValue ?? defaultWhenOff))"
    }
}

extension Setting {
    /// What an unset setting without a default means, for `--help`.
    fileprivate var defaultWhenOff: String {
        switch self {
        case .threads: return "one per core"
        case .maxLifetime: return "the permanent lifetime"
        case .redisTLSCAFile: return "the system's trust store"
        case .dataDir: return "off: sessions are lost when the process ends"
        default: return "off"
        }
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}
