import RedisClient
import Testing

@Suite("redis:// URLs")
struct RedisConfigurationTests {
    @Test func hostPortAndDatabase() throws {
        let configuration = try #require(RedisConfiguration(url: "redis://cache.internal:6380/3"))
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 3)
        #expect(configuration.username == nil && configuration.password == nil)
    }

    @Test func defaults() throws {
        let configuration = try #require(RedisConfiguration(url: "redis://localhost"))
        #expect(configuration.port == 6379 && configuration.database == 0)
    }

    @Test func credentialsArePercentDecodedAndRedacted() throws {
        let configuration = try #require(RedisConfiguration(url: "redis://app:p%40ss%3Aw@127.0.0.1:6379/0"))
        #expect(configuration.username == "app")
        #expect(configuration.password == "p@ss:w")
        #expect(configuration.redactedURL == "redis://app:***@127.0.0.1:6379/0")
        let passwordOnly = try #require(RedisConfiguration(url: "redis://:secret@127.0.0.1"))
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")
        #expect(!passwordOnly.redactedURL.contains("secret"))
    }

    @Test func ipv6() throws {
        let configuration = try #require(RedisConfiguration(url: "redis://[::1]:7000"))
        #expect(configuration.host == "::1" && configuration.port == 7000)
        #expect(configuration.redactedURL == "redis://[::1]:7000/0")
    }

    @Test(arguments: ["http://localhost", "redis://", "redis://host:0", "redis://host:abc", "redis://host/-1", "redis://host/db", "redis://u:%zz@h"])
    func invalid(url: String) {
        #expect(RedisConfiguration(url: url) == nil)
    }
}
