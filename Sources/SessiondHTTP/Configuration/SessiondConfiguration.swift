import Logging
import NIOCore
import RedisClient
import SessionCore

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
    public var lifetimes: LifetimePolicy
    public var limits: RequestLimits
    public var idleTimeout: TimeAmount
    public var sweepInterval: Duration
    public var threads: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat

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
        var redis = try reader.value(.redisURL, expected: "redis://[user:password@]host[:port][/db]") { RedisConfiguration(url: $0) }
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
        let idle = try reader.value(.idleTimeout, expected: duration, DurationText.milliseconds)
        let sweep = try reader.value(.sweepInterval, expected: duration, DurationText.milliseconds)
        let port = try reader.value(.port, expected: "a port number from 0 to 65535") { Int($0).flatMap { (0...65_535).contains($0) ? $0 : nil } }
        let maxBody = try reader.value(.maxBodyBytes, expected: "a whole number of bytes from 2 to 16777216") {
            Int($0).flatMap { (2...16_777_216).contains($0) ? $0 : nil }
        }
        let maxDepth = try reader.value(.maxDataDepth, expected: "a whole number from 1 to 512") { Int($0).flatMap { (1...512).contains($0) ? $0 : nil } }
        let threads = try reader.optionalValue(.threads, expected: "a whole number from 1 to 256") { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        let host = try reader.value(.host, expected: "an IP address or host name") { $0.isEmpty ? nil : $0 }

        return SessiondConfiguration(
            host: host, port: port, store: store, redis: redis, redisPrefix: redisPrefix,
            lifetimes: LifetimePolicy(permanent: permanent, standard: standard, absolute: absolute ?? nil),
            limits: RequestLimits(maxBodyBytes: maxBody, maxDataDepth: maxDepth),
            idleTimeout: .milliseconds(idle), sweepInterval: .milliseconds(sweep),
            threads: threads ?? max(1, coreCount), logLevel: logLevel, logFormat: logFormat
        )
    }

    static let maximumLifetime: Int64 = 36_500 * 86_400_000

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
