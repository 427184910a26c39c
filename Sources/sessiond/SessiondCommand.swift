import ArgumentParser
import Logging
import NIOCore
import ServiceLifecycle
import SessionCore
import SessiondApp
import SessiondAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sessiond`: parse flags, fall back to the environment and defaults, build, run until SIGTERM.
@main
struct SessiondCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessiond",
        abstract: "Server-side sessions for web apps in any language, over HTTP/JSON.",
        discussion: """
            Serves the session API (see /openapi.yaml) on the embedded in-memory store or on Redis.
            Every setting is a flag, an environment variable, or its default, in that order.
            SIGTERM or SIGINT turns /readyz to 503, stops accepting connections after --drain-delay, \
            finishes requests in flight (for at most --shutdown-grace) and exits 0.
            `sessiond healthcheck` exits 0 when the local sessiond is ready (for container health checks).
            """,
        subcommands: [HealthcheckCommand.self]
    )

    @Option(help: ArgumentHelp(Setting.host.help)) var host: String?
    @Option(help: ArgumentHelp(Setting.port.help)) var port: String?
    @Option(help: ArgumentHelp(Setting.store.help)) var store: String?
    @Option(help: ArgumentHelp(Setting.redisURL.help)) var redisUrl: String?
    @Option(help: ArgumentHelp(Setting.redisPrefix.help)) var redisPrefix: String?
    @Option(help: ArgumentHelp(Setting.redisConnections.help)) var redisConnections: String?
    @Option(help: ArgumentHelp(Setting.redisTimeout.help)) var redisTimeout: String?
    @Option(name: .customLong("redis-tls-ca-file"), help: ArgumentHelp(Setting.redisTLSCAFile.help)) var redisTLSCAFile: String?
    @Option(name: .customLong("redis-tls-cert-file"), help: ArgumentHelp(Setting.redisTLSCertFile.help)) var redisTLSCertFile: String?
    @Option(name: .customLong("redis-tls-key-file"), help: ArgumentHelp(Setting.redisTLSKeyFile.help)) var redisTLSKeyFile: String?
    @Option(name: .customLong("redis-tls-insecure"), help: ArgumentHelp(Setting.redisTLSInsecure.help)) var redisTLSInsecure: String?
    @Option(help: ArgumentHelp(Setting.redisSentinels.help)) var redisSentinels: String?
    @Option(help: ArgumentHelp(Setting.redisSentinelMaster.help)) var redisSentinelMaster: String?
    @Option(help: ArgumentHelp(Setting.redisSentinelUsername.help)) var redisSentinelUsername: String?
    @Option(help: ArgumentHelp(Setting.redisSentinelPassword.help)) var redisSentinelPassword: String?
    @Option(help: ArgumentHelp(Setting.redisCluster.help)) var redisCluster: String?
    @Option(help: ArgumentHelp(Setting.lifetime.help)) var lifetime: String?
    @Option(help: ArgumentHelp(Setting.permanentLifetime.help)) var permanentLifetime: String?
    @Option(help: ArgumentHelp(Setting.absoluteLifetime.help)) var absoluteLifetime: String?
    @Option(help: ArgumentHelp(Setting.maxLifetime.help)) var maxLifetime: String?
    @Option(help: ArgumentHelp(Setting.rotationGrace.help)) var rotationGrace: String?
    @Option(help: ArgumentHelp(Setting.maxBodyBytes.help)) var maxBodyBytes: String?
    @Option(help: ArgumentHelp(Setting.maxDataDepth.help)) var maxDataDepth: String?
    @Option(help: ArgumentHelp(Setting.idleTimeout.help)) var idleTimeout: String?
    @Option(help: ArgumentHelp(Setting.sweepInterval.help)) var sweepInterval: String?
    @Option(help: ArgumentHelp(Setting.threads.help)) var threads: String?
    @Option(help: ArgumentHelp(Setting.logLevel.help)) var logLevel: String?
    @Option(help: ArgumentHelp(Setting.logFormat.help)) var logFormat: String?
    @Option(help: ArgumentHelp(Setting.apiKeysFile.help)) var apiKeysFile: String?
    @Option(help: ArgumentHelp(Setting.allowUnauthenticated.help)) var allowUnauthenticated: String?
    @Option(help: ArgumentHelp(Setting.metricsAuth.help)) var metricsAuth: String?
    @Option(help: ArgumentHelp(Setting.maxSessions.help)) var maxSessions: String?
    @Option(help: ArgumentHelp(Setting.maxSessionsPerSubject.help)) var maxSessionsPerSubject: String?
    @Option(help: ArgumentHelp(Setting.eventHistory.help)) var eventHistory: String?
    @Option(help: ArgumentHelp(Setting.eventConsumerTimeout.help)) var eventConsumerTimeout: String?
    @Option(help: ArgumentHelp(Setting.dataDir.help)) var dataDir: String?
    @Option(help: ArgumentHelp(Setting.fsync.help)) var fsync: String?
    @Option(help: ArgumentHelp(Setting.maxConnections.help)) var maxConnections: String?
    @Option(help: ArgumentHelp(Setting.requestTimeout.help)) var requestTimeout: String?
    @Option(help: ArgumentHelp(Setting.drainDelay.help)) var drainDelay: String?
    @Option(help: ArgumentHelp(Setting.shutdownGrace.help)) var shutdownGrace: String?

    /// The flags given, by setting.
    private var flags: [Setting: String] {
        let given: [(Setting, String?)] = [
            (.host, host), (.port, port), (.store, store), (.redisURL, redisUrl), (.redisPrefix, redisPrefix),
            (.redisConnections, redisConnections), (.redisTimeout, redisTimeout), (.redisTLSCAFile, redisTLSCAFile),
            (.redisTLSCertFile, redisTLSCertFile), (.redisTLSKeyFile, redisTLSKeyFile), (.redisTLSInsecure, redisTLSInsecure),
            (.redisSentinels, redisSentinels), (.redisSentinelMaster, redisSentinelMaster),
            (.redisSentinelUsername, redisSentinelUsername), (.redisSentinelPassword, redisSentinelPassword),
            (.redisCluster, redisCluster),
            (.lifetime, lifetime),
            (.permanentLifetime, permanentLifetime), (.absoluteLifetime, absoluteLifetime), (.maxLifetime, maxLifetime),
            (.rotationGrace, rotationGrace),
            (.maxBodyBytes, maxBodyBytes), (.maxDataDepth, maxDataDepth), (.idleTimeout, idleTimeout),
            (.sweepInterval, sweepInterval), (.threads, threads), (.logLevel, logLevel), (.logFormat, logFormat),
            (.apiKeysFile, apiKeysFile), (.allowUnauthenticated, allowUnauthenticated), (.metricsAuth, metricsAuth),
            (.maxSessions, maxSessions), (.maxSessionsPerSubject, maxSessionsPerSubject), (.eventHistory, eventHistory), (.eventConsumerTimeout, eventConsumerTimeout), (.dataDir, dataDir), (.fsync, fsync), (.maxConnections, maxConnections), (.requestTimeout, requestTimeout),
            (.drainDelay, drainDelay), (.shutdownGrace, shutdownGrace),
        ]
        return Dictionary(uniqueKeysWithValues: given.compactMap { setting, value in value.map { (setting, $0) } })
    }

    func run() async throws {
        let configuration: SessiondConfiguration
        do throws(ConfigurationError) {
            configuration = try SessiondConfiguration.resolve(
                flags: flags, environment: ProcessEnvironment.current, coreCount: System.coreCount
            )
        } catch {
            throw ValidationError(error.description)
        }
        LoggingSystem.bootstrap { label in
            LineLogHandler(label: label, level: configuration.logLevel, format: configuration.logFormat)
        }
        defer { LogWriter.shared.flush() }
        do {
            try await Sessiond(configuration: configuration).run()
        } catch let error as Sessiond.StartError {
            Logger(label: "sessiond").critical("refusing to start: \(error.description)")
            throw ExitCode(2)
        } catch {
            Logger(label: "sessiond").critical("stopped by an error: \(error)")
            throw error
        }
    }
}

/// The process environment.
enum ProcessEnvironment {
    /// The process environment as a dictionary.
    static var current: [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}
