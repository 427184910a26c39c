import DurableStore
import Logging
import NIOCore
import RedisClient
import RedisTLS
import SessionCore
import SessiondAPI

/// Everything `sessiond` needs to run, resolved from flags, environment and defaults.
public struct SessiondConfiguration: Sendable {
    /// How log lines are written.
    public enum LogFormat: String, Sendable { case text, json }
    /// Which store keeps the sessions.
    public enum StoreKind: String, Sendable { case memory, redis }

    public var host: String
    public var port: Int
    public var store: StoreKind
    /// How to reach Redis (read also when the store is memory, so that mistakes show early).
    public var redis: RedisConfiguration
    /// Prefix of every session key in Redis.
    public var redisPrefix: String
    /// TLS settings for a `rediss://` URL; nil for plain TCP.
    public var redisTLS: RedisTLS.Settings?
    public var lifetimes: LifetimePolicy
    public var limits: RequestLimits
    public var idleTimeout: TimeAmount
    public var sweepInterval: Duration
    public var threads: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// The file of API keys, or nil to serve without keys.
    public var apiKeysFile: String?
    /// Whether to serve without keys on an address other than loopback.
    public var allowUnauthenticated: Bool
    /// Whether `/metrics` needs an API key (when there are keys).
    public var metricsNeedKey: Bool
    /// The most sessions per namespace on the memory store, or nil for no limit.
    public var maxSessions: Int?
    /// The data directory that makes the memory store durable, or nil to keep sessions in memory only.
    public var dataDirectory: String?
    /// When writes to the data directory are fsynced.
    public var fsync: FsyncPolicy
    public var maxConnections: Int
    public var requestTimeout: TimeAmount
    public var drainDelay: Duration
    public var shutdownGrace: Duration
    /// The most live sessions per subject (`--max-sessions-per-subject`), 0 for no limit.
    public var maxSessionsPerSubject: Int = 0
    /// How many events each namespace keeps (`--event-history`), 0 for none.
    public var eventHistory: Int = 10_000
    /// How long a `GET /events` client may leave what was sent unread (`--event-consumer-timeout`).
    public var eventConsumerTimeout: TimeAmount = .seconds(10)

    /// Resolves each `Setting`: the flag's value when given, else the environment variable,
    /// else the default.
    ///
    /// - Parameters:
    ///   - flags: values given on the command line, by setting.
    ///   - environment: the process environment (only `SESSIOND_*` names are read).
    ///   - coreCount: the default for `threads`.
    /// - Throws: `ConfigurationError` naming the setting, where its value came from, and what
    ///   is accepted, for the first value that does not parse.
    public static func resolve(
        flags: [Setting: String], environment: [String: String], coreCount: Int
    ) throws(ConfigurationError) -> SessiondConfiguration {
        let reader = SettingReader(flags: flags, environment: environment)
        let store: StoreKind = try reader.value(.store, expected: "memory or redis") { StoreKind(rawValue: $0) }
        var redis = try reader.value(.redisURL, expected: "redis://[user:password@]host[:port][/db], or rediss:// for TLS") {
            RedisConfiguration(url: $0)
        }
        let tlsFile = "a file path, with a rediss:// URL"
        let requiresTLS: (String) -> String? = { redis.tls && !$0.isEmpty ? $0 : nil }
        let caFile = try reader.optionalValue(.redisTLSCAFile, expected: tlsFile, requiresTLS)
        let certificateFile = try reader.optionalValue(.redisTLSCertFile, expected: tlsFile, requiresTLS)
        let keyFile = try reader.optionalValue(.redisTLSKeyFile, expected: tlsFile, requiresTLS)
        let insecure = try reader.value(.redisTLSInsecure, expected: "true or false (true only with a rediss:// URL)") { text in
            parseBool(text).flatMap { $0 && !redis.tls ? nil : $0 }
        }
        let sentinels = try reader.optionalValue(.redisSentinels, expected: "host:port[,host:port...]") { RedisSentinelConfiguration.nodes($0) }
        let sentinelMaster = try reader.optionalValue(.redisSentinelMaster, expected: "the master's name, with --redis-sentinels") { text in
            sentinels != nil && !text.isEmpty ? text : nil
        }
        let sentinelUser = try reader.optionalValue(.redisSentinelUsername, expected: "a user name, with --redis-sentinels") { text in
            sentinels != nil && !text.isEmpty ? text : nil
        }
        let sentinelPassword = try reader.optionalValue(.redisSentinelPassword, expected: "a password, with --redis-sentinels") { text in
            sentinels != nil ? text : nil
        }
        if let sentinels {
            guard let sentinelMaster else {
                throw ConfigurationError(
                    setting: .redisSentinelMaster, value: "", source: "--redis-sentinels given without it",
                    expected: "the master's name as the Sentinels monitor it (--redis-sentinels needs it)"
                )
            }
            redis.sentinel = RedisSentinelConfiguration(
                nodes: sentinels, masterName: sentinelMaster, username: sentinelUser, password: sentinelPassword
            )
        }
        let clusterNodes = try reader.optionalValue(.redisCluster, expected: "host:port[,host:port...], without --redis-sentinels") { text in
            sentinels == nil ? RedisClusterConfiguration.seeds(text) : nil
        }
        if let clusterNodes {
            guard redis.database == 0 else {
                throw ConfigurationError(
                    setting: .redisURL, value: redis.redactedURL, source: "--redis-cluster given with it",
                    expected: "database 0 (a Redis Cluster has no other): drop the /\(redis.database) from the URL"
                )
            }
            redis.cluster = RedisClusterConfiguration(seeds: clusterNodes)
        }
        let redisTLS = redis.tls
            ? RedisTLS.Settings(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile, insecure: insecure)
            : nil
        redis.connectionsPerLoop = try reader.value(.redisConnections, expected: "a whole number from 1 to 64") {
            Int($0).flatMap { (1...64).contains($0) ? $0 : nil }
        }
        let redisTimeout = try reader.value(.redisTimeout, expected: "a positive duration such as 500ms or 2s") { DurationText.milliseconds($0) }
        redis.commandTimeout = .milliseconds(redisTimeout)
        redis.connectTimeout = .milliseconds(redisTimeout)
        let redisPrefix = try reader.value(.redisPrefix, expected: "a key prefix (may be empty)") { $0 }
        let logLevel: Logger.Level = try reader.value(.logLevel, expected: "trace, debug, info, notice, warning, error or critical") {
            Logger.Level(rawValue: $0)
        }
        let logFormat: LogFormat = try reader.value(.logFormat, expected: "text or json") { LogFormat(rawValue: $0) }
        let duration = "a positive duration: seconds, or a number with ms, s, m, h or d (90s, 30m, 12h, 31d)"
        // Lifetimes stay within 100 years, so expiry times stay exact in Redis' Lua (below 2^53 ms).
        let lifetime = duration + ", at most 36500d"
        let standard = try reader.value(.lifetime, expected: lifetime, parseLifetime)
        let permanent = try reader.value(.permanentLifetime, expected: lifetime, parseLifetime)
        let absolute = try reader.optionalValue(.absoluteLifetime, expected: lifetime + ", or off", parseOptionalDuration)
        let maxOwn = try reader.optionalValue(.maxLifetime, expected: lifetime + ", of whole seconds") { text in
            parseLifetime(text).flatMap { $0 >= 1000 && $0 % 1000 == 0 ? $0 : nil }
        }
        let rotationGrace = try reader.value(.rotationGrace, expected: "a duration from 0s to 60s") { text -> Int64? in
            let grace = ["0", "0s", "0ms"].contains(text) ? 0 : DurationText.milliseconds(text)
            return grace.flatMap { $0 <= LifetimePolicy.maxRotationGrace ? $0 : nil }
        }
        let idle = try reader.value(.idleTimeout, expected: duration, DurationText.milliseconds)
        let sweep = try reader.value(.sweepInterval, expected: duration, DurationText.milliseconds)
        let port = try reader.value(.port, expected: "a port number from 0 to 65535") { Int($0).flatMap { (0...65_535).contains($0) ? $0 : nil } }
        let maxBody = try reader.value(.maxBodyBytes, expected: "a whole number of bytes from 2 to 16777216") {
            Int($0).flatMap { (2...16_777_216).contains($0) ? $0 : nil }
        }
        let maxDepth = try reader.value(.maxDataDepth, expected: "a whole number from 1 to 512") { Int($0).flatMap { (1...512).contains($0) ? $0 : nil } }
        let threads = try reader.optionalValue(.threads, expected: "a whole number from 1 to 256") { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        let host = try reader.value(.host, expected: "an IP address or host name") { $0.isEmpty ? nil : $0 }
        let apiKeysFile = try reader.optionalValue(.apiKeysFile, expected: "a file path") { $0.isEmpty ? nil : $0 }
        let allowUnauthenticated = try reader.value(.allowUnauthenticated, expected: "true or false") { parseBool($0) }
        let metricsNeedKey = try reader.value(.metricsAuth, expected: "key or none") { $0 == "key" ? true : $0 == "none" ? false : nil }
        let maxSessions = try reader.optionalValue(.maxSessions, expected: "a whole number from 1 to 1000000000") {
            Int($0).flatMap { (1...1_000_000_000).contains($0) ? $0 : nil }
        }
        let dataDirectory = try reader.optionalValue(.dataDir, expected: "a directory path, with --store memory (Redis keeps its own data)") { text -> String? in
            text.isEmpty || store != .memory ? nil : text
        }
        let fsync = try reader.value(.fsync, expected: "always, everysec or no") { FsyncPolicy(rawValue: $0) }
        let maxConnections = try reader.value(.maxConnections, expected: "a whole number from 1 to 1000000") {
            Int($0).flatMap { (1...1_000_000).contains($0) ? $0 : nil }
        }
        let requestTimeout = try reader.value(.requestTimeout, expected: duration, DurationText.milliseconds)
        let drainDelay = try reader.value(.drainDelay, expected: "a duration (0s for none)") { ["0", "0s", "0ms"].contains($0) ? 0 : DurationText.milliseconds($0) }
        let shutdownGrace = try reader.value(.shutdownGrace, expected: duration, DurationText.milliseconds)

        let maxPerSubject = try reader.value(.maxSessionsPerSubject, expected: "a whole number from 0 (no limit) to 10000") {
            Int($0).flatMap { (0...10_000).contains($0) ? $0 : nil }
        }
        var configuration = SessiondConfiguration(
            host: host, port: port, store: store, redis: redis, redisPrefix: redisPrefix, redisTLS: redisTLS,
            lifetimes: LifetimePolicy(
                permanent: permanent, standard: standard, absolute: absolute ?? nil, maxOwn: maxOwn, rotationGrace: rotationGrace
            ),
            limits: RequestLimits(maxBodyBytes: maxBody, maxDataDepth: maxDepth),
            idleTimeout: .milliseconds(idle), sweepInterval: .milliseconds(sweep),
            threads: threads ?? max(1, coreCount), logLevel: logLevel, logFormat: logFormat,
            apiKeysFile: apiKeysFile, allowUnauthenticated: allowUnauthenticated, metricsNeedKey: metricsNeedKey,
            maxSessions: maxSessions, dataDirectory: dataDirectory, fsync: fsync, maxConnections: maxConnections, requestTimeout: .milliseconds(requestTimeout),
            drainDelay: .milliseconds(drainDelay), shutdownGrace: .milliseconds(shutdownGrace)
        )
        configuration.maxSessionsPerSubject = maxPerSubject
        let history = try reader.value(.eventHistory, expected: "a whole number from 0 (no events) to 10000000") {
            Int($0).flatMap { (0...10_000_000).contains($0) ? $0 : nil }
        }
        if clusterNodes != nil, history > 0 {
            // A namespace's stream lives in one slot, its sessions in all of them, and each
            // script may touch its own slot only: events are off on a cluster.
            guard reader.raw(.eventHistory)?.1 == "the default" else {
                throw ConfigurationError(
                    setting: .eventHistory, value: String(history), source: "--redis-cluster given with it",
                    expected: "0: lifecycle events are not available on Redis Cluster (an event is written in the same script as its change, and a namespace's stream cannot share a slot with all its sessions)"
                )
            }
            configuration.eventHistory = 0
        } else {
            configuration.eventHistory = history
        }
        let consumerTimeout = try reader.value(.eventConsumerTimeout, expected: duration, DurationText.milliseconds)
        configuration.eventConsumerTimeout = .milliseconds(consumerTimeout)
        return configuration
    }

    static let maximumLifetime: Int64 = 36_500 * 86_400_000

    private static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: return nil
        }
    }

    /// Whether `host` names a loopback address only: an IPv4 address in 127.0.0.0/8, `::1`, or
    /// the name `localhost`. Any other name could resolve to a public interface.
    public var listensOnLoopbackOnly: Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" || name == "[::1]" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }),
              let values = Optional(octets.compactMap { UInt8($0) }), values.count == 4
        else { return false }
        return values[0] == 127
    }

    /// A duration of at most `maximumLifetime`.
    private static func parseLifetime(_ text: String) -> Int64? {
        DurationText.milliseconds(text).flatMap { $0 <= maximumLifetime ? $0 : nil }
    }

    /// `off` (any case) means no cap; anything else must be a lifetime.
    private static func parseOptionalDuration(_ text: String) -> Int64?? {
        if text.lowercased() == "off" { return .some(nil) }
        return parseLifetime(text).map { .some($0) }
    }
}

/// Looks a setting up in flags, then environment, then defaults.
private struct SettingReader {
    let flags: [Setting: String]
    let environment: [String: String]

    /// The raw text and where it came from, or nil when the setting is unset and has no default.
    func raw(_ setting: Setting) -> (String, String)? {
        if let value = flags[setting] { return (value, setting.flag) }
        if let value = environment[setting.environmentVariable] { return (value, setting.environmentVariable) }
        if let value = setting.defaultValue { return (value, "the default") }
        return nil
    }

    func value<T>(_ setting: Setting, expected: String, _ parse: (String) -> T?) throws(ConfigurationError) -> T {
        guard let found = try optionalValue(setting, expected: expected, parse) else {
            throw ConfigurationError(setting: setting, value: "", source: "nowhere", expected: expected)
        }
        return found
    }

    func optionalValue<T>(_ setting: Setting, expected: String, _ parse: (String) -> T?) throws(ConfigurationError) -> T? {
        guard let (text, source) = raw(setting) else { return nil }
        guard let parsed = parse(text) else {
            throw ConfigurationError(setting: setting, value: text, source: source, expected: expected)
        }
        return parsed
    }
}

/// A setting whose value does not parse.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let setting: Setting
    public let value: String
    /// `--port`, `SESSIOND_PORT` or "the default".
    public let source: String
    public let expected: String

    public var description: String {
        "invalid value '\(value)' for \(setting.rawValue) (from \(source)): expected \(expected)"
    }
}
