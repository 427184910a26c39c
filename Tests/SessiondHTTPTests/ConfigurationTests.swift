import Logging
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import RedisClient
import Testing

@Suite("Configuration: flag, then environment, then default")
struct ConfigurationTests {
    @Test func defaults() throws {
        let configuration = try SessiondConfiguration.resolve(flags: [:], environment: [:], coreCount: 2)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.store == .memory)
        #expect(configuration.lifetimes.standard == 86_400_000)
        #expect(configuration.lifetimes.permanent == 31 * 86_400_000)
        #expect(configuration.lifetimes.absolute == nil)
        #expect(configuration.lifetimes.maxOwn == 31 * 86_400_000)
        #expect(configuration.limits.maxBodyBytes == 65_536)
        #expect(configuration.threads == 2)
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .text)
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = ["SESSIOND_PORT": "9000", "SESSIOND_LIFETIME": "30m", "SESSIOND_ABSOLUTE_LIFETIME": "12h", "SESSIOND_LOG_FORMAT": "json"]
        let fromEnvironment = try SessiondConfiguration.resolve(flags: [:], environment: environment, coreCount: 2)
        #expect(fromEnvironment.port == 9000)
        #expect(fromEnvironment.lifetimes.standard == 1_800_000)
        #expect(fromEnvironment.lifetimes.absolute == 43_200_000)
        #expect(fromEnvironment.logFormat == .json)
        let flagged = try SessiondConfiguration.resolve(flags: [.port: "9001", .absoluteLifetime: "off"], environment: environment, coreCount: 2)
        #expect(flagged.port == 9001)
        #expect(flagged.lifetimes.absolute == nil)
        #expect(flagged.lifetimes.standard == 1_800_000)
    }

    @Test(arguments: [
        (Setting.port, "70000"), (.port, "http"), (.store, "mongo"), (.redisURL, "http://x"), (.redisURL, "redis://h:99999"), (.redisURL, "redis://h/x"), (.redisTimeout, "fast"), (.lifetime, "1w"), (.lifetime, "200000000d"), (.permanentLifetime, "36501d"), (.permanentLifetime, "0"),
        (.absoluteLifetime, "never"), (.maxBodyBytes, "-1"), (.maxDataDepth, "0"), (.logLevel, "verbose"), (.logFormat, "xml"),
        (.threads, "0"), (.host, ""), (.allowUnauthenticated, "maybe"), (.metricsAuth, "basic"), (.maxSessions, "0"),
        (.maxConnections, "-5"), (.requestTimeout, "soon"), (.drainDelay, "x"), (.shutdownGrace, "0"),
        (.maxLifetime, "0"), (.maxLifetime, "1500ms"), (.maxLifetime, "36501d"),
    ])
    func invalidValuesNameTheSettingAndTheSource(setting: Setting, value: String) {
        do {
            _ = try SessiondConfiguration.resolve(flags: [:], environment: [setting.environmentVariable: value], coreCount: 2)
            Issue.record("\(setting) accepted \(value)")
        } catch {
            #expect(error.setting == setting)
            #expect(error.description.contains(setting.environmentVariable))
            #expect(error.description.contains("'\(value)'"))
        }
    }

    @Test func maxLifetimeDefaultsToThePermanentLifetimeAndMayBeSet() throws {
        let followed = try SessiondConfiguration.resolve(flags: [.permanentLifetime: "7d"], environment: [:], coreCount: 2)
        #expect(followed.lifetimes.maxOwn == 7 * 86_400_000)
        let set = try SessiondConfiguration.resolve(flags: [.maxLifetime: "90d"], environment: ["SESSIOND_MAX_LIFETIME": "1h"], coreCount: 2)
        #expect(set.lifetimes.maxOwn == 90 * 86_400_000)
        #expect(Setting.maxLifetime.help.contains("default: the permanent lifetime"))
    }

    @Test func everySettingHasAFlagAnEnvironmentVariableAndHelp() {
        #expect(Setting.port.flag == "--port")
        #expect(Setting.permanentLifetime.environmentVariable == "SESSIOND_PERMANENT_LIFETIME")
        for setting in Setting.allCases {
            #expect(setting.help.contains(setting.environmentVariable))
        }
    }
}

@Suite("Configuration: the durable store")
struct DurableConfigurationTests {
    @Test func withoutADataDirectoryTheStoreIsMemoryOnlyAndFsyncIsEverysec() throws {
        let configuration = try SessiondConfiguration.resolve(flags: [:], environment: [:], coreCount: 2)
        #expect(configuration.dataDirectory == nil)
        #expect(configuration.fsync == .everysec)
    }

    @Test func aDataDirectoryAndFsyncComeFromFlagsOrTheEnvironment() throws {
        let environment = ["SESSIOND_DATA_DIR": "/var/lib/sessiond", "SESSIOND_FSYNC": "no"]
        let fromEnvironment = try SessiondConfiguration.resolve(flags: [:], environment: environment, coreCount: 2)
        #expect(fromEnvironment.dataDirectory == "/var/lib/sessiond")
        #expect(fromEnvironment.fsync == .no)
        let flagged = try SessiondConfiguration.resolve(flags: [.dataDir: "/data", .fsync: "always"], environment: environment, coreCount: 2)
        #expect(flagged.dataDirectory == "/data")
        #expect(flagged.fsync == .always)
    }

    @Test func aDataDirectoryWithRedisAnEmptyOneOrAnotherFsyncAreRefused() {
        let refused: [[Setting: String]] = [[.dataDir: "/data", .store: "redis"], [.dataDir: ""], [.fsync: "sometimes"]]
        for flags in refused {
            #expect(throws: ConfigurationError.self, "\(flags)") {
                try SessiondConfiguration.resolve(flags: flags, environment: [:], coreCount: 2)
            }
        }
    }

    @Test func clusterSeedsAreReadAndTheURLKeepsItsCredentialsAndTLS() throws {
        let configuration = try SessiondConfiguration.resolve(
            flags: [.store: "redis", .redisCluster: "10.0.0.1:7000,10.0.0.2"], environment: ["SESSIOND_REDIS_URL": "rediss://app:secret@unused/0"],
            coreCount: 2
        )
        #expect(configuration.redis.cluster?.seeds == [RedisNodeAddress(host: "10.0.0.1", port: 7000), RedisNodeAddress(host: "10.0.0.2", port: 6379)])
        #expect(configuration.redis.tls)
        #expect(configuration.redis.username == "app")
        #expect(!configuration.redis.redactedURL.contains("secret"))
        #expect(configuration.redis.redactedURL.contains("cluster of 10.0.0.1:7000,10.0.0.2:6379"))
    }

    @Test func clusterWithSentinelsADatabaseOrBadSeedsIsRefused() {
        let refused: [([Setting: String], Setting)] = [
            ([.redisCluster: "a:1", .redisSentinels: "b:2", .redisSentinelMaster: "m"], .redisCluster),
            ([.redisCluster: "a:1", .redisURL: "redis://h:6379/3"], .redisURL),
            ([.redisCluster: "a:1,,b:2"], .redisCluster),
            ([.redisCluster: "a:99999"], .redisCluster),
            ([.redisCluster: ""], .redisCluster),
        ]
        for (flags, setting) in refused {
            do {
                _ = try SessiondConfiguration.resolve(flags: flags, environment: [:], coreCount: 2)
                Issue.record("accepted \(flags)")
            } catch {
                #expect(error.setting == setting, "\(flags): \(error)")
            }
        }
    }
}
