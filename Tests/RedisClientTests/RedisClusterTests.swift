import NIOCore
import RedisClient
import Testing

@Suite("Redis Cluster: key slots, the slot map, redirects and retries, without a socket")
struct RedisClusterTests {
    private let node = RedisNodeAddress(host: "10.0.0.1", port: 7000)
    private let other = RedisNodeAddress(host: "10.0.0.2", port: 7001)

    // MARK: - Slots

    @Test func slotsAreCRC16ModuloAsRedisComputesThem() {
        // Values from CLUSTER KEYSLOT on Redis 7.
        #expect(RedisClusterSlot.of(Array("foo".utf8)) == 12_182)
        #expect(RedisClusterSlot.of(Array("bar".utf8)) == 5_061)
        #expect(RedisClusterSlot.of([UInt8]()) == 0)
    }

    @Test func aHashTagPicksTheSlot() {
        let followers = RedisClusterSlot.of(Array("{user1000}.followers".utf8))
        #expect(followers == RedisClusterSlot.of(Array("{user1000}.following".utf8)))
        #expect(followers == RedisClusterSlot.of(Array("user1000".utf8)))
        // An empty tag hashes the whole key; only the first { counts.
        #expect(RedisClusterSlot.of(Array("foo{}{bar}".utf8)) != RedisClusterSlot.of(Array("bar".utf8)))
        #expect(RedisClusterSlot.of(Array("foo{{bar}}zap".utf8)) == RedisClusterSlot.of(Array("{bar".utf8)))
        #expect(RedisClusterSlot.of(Array("foo{bar}{zap}".utf8)) == RedisClusterSlot.of(Array("bar".utf8)))
    }

    // MARK: - The map

    private func range(_ start: Int, _ end: Int, _ primary: (String, Int), replicas: [(String, Int)] = []) -> RESPValue {
        .array([.integer(Int64(start)), .integer(Int64(end))] + ([primary] + replicas).map { host, port in
            .array([.bulkString(Array(host.utf8)), .integer(Int64(port)), .bulkString(Array("id".utf8))])
        })
    }

    @Test func theMapIsReadFromClusterSlots() throws {
        let reply = RESPValue.array([
            range(0, 5460, ("10.0.0.1", 7000), replicas: [("10.0.0.4", 7003)]),
            range(5461, 10922, ("10.0.0.2", 7001)),
            range(10923, 16383, ("", 7002)),
        ])
        let topology = try #require(RedisClusterTopology(clusterSlots: reply, answeredBy: RedisNodeAddress(host: "10.0.0.9", port: 7009)))
        #expect(topology.coversAllSlots)
        #expect(topology.primary(for: 0) == node)
        #expect(topology.primary(for: 5460) == node)
        #expect(topology.primary(for: 5461) == other)
        // An empty host is the node that answered.
        #expect(topology.primary(for: 16383) == RedisNodeAddress(host: "10.0.0.9", port: 7002))
        #expect(topology.replicas == [RedisNodeAddress(host: "10.0.0.4", port: 7003)])
    }

    @Test func aMapWithHolesOrBadRangesIsToldApart() {
        let partial = RedisClusterTopology(clusterSlots: .array([range(0, 100, ("a", 1))]), answeredBy: node)
        #expect(partial?.coversAllSlots == false)
        #expect(partial?.primary(for: 101) == nil)
        #expect(RedisClusterTopology(clusterSlots: .array([range(5, 4, ("a", 1))]), answeredBy: node) == nil)
        #expect(RedisClusterTopology(clusterSlots: .array([range(0, 16384, ("a", 1))]), answeredBy: node) == nil)
        #expect(RedisClusterTopology(clusterSlots: .error("ERR This instance has cluster support disabled"), answeredBy: node) == nil)
    }

    @Test func movedPatchesOneSlotAndAFailoverIsTheOldPrimaryServingNothing() throws {
        var topology = try #require(RedisClusterTopology(
            clusterSlots: .array([range(0, 8191, ("10.0.0.1", 7000)), range(8192, 16383, ("10.0.0.2", 7001))]), answeredBy: node
        ))
        let before = topology
        topology.assign(42...42, to: RedisNodeAddress(host: "10.0.0.3", port: 7002))
        #expect(topology.primary(for: 42) == RedisNodeAddress(host: "10.0.0.3", port: 7002))
        #expect(topology.primary(for: 41) == node)
        #expect(before.primariesReplaced(in: topology).isEmpty)
        let afterFailover = try #require(RedisClusterTopology(
            clusterSlots: .array([range(0, 8191, ("10.0.0.4", 7003)), range(8192, 16383, ("10.0.0.2", 7001))]), answeredBy: node
        ))
        #expect(before.primariesReplaced(in: afterFailover) == [node])
    }

    // MARK: - Replies

    @Test func clusterRepliesAreRead() {
        #expect(RedisClusterReply(error: "MOVED 3999 127.0.0.1:6381", answeredBy: node) == .moved(slot: 3999, node: RedisNodeAddress(host: "127.0.0.1", port: 6381)))
        #expect(RedisClusterReply(error: "ASK 3999 [::1]:6381", answeredBy: node) == .ask(slot: 3999, node: RedisNodeAddress(host: "::1", port: 6381)))
        // An empty host (cluster-preferred-endpoint-type unknown-endpoint) is the node that answered.
        #expect(RedisClusterReply(error: "MOVED 1 :6390", answeredBy: node) == .moved(slot: 1, node: RedisNodeAddress(host: "10.0.0.1", port: 6390)))
        #expect(RedisClusterReply(error: "TRYAGAIN Multiple keys request during rehashing of slot", answeredBy: node) == .retryLater(reason: "TRYAGAIN"))
        #expect(RedisClusterReply(error: "CLUSTERDOWN The cluster is down", answeredBy: node) == .retryLater(reason: "CLUSTERDOWN"))
        #expect(RedisClusterReply(error: "LOADING Redis is loading the dataset in memory", answeredBy: node) == .retryLater(reason: "LOADING"))
        #expect(RedisClusterReply(error: "READONLY You can't write against a read only replica.", answeredBy: node) == .demoted)
        #expect(RedisClusterReply(error: "MOVED 16384 127.0.0.1:6381", answeredBy: node) == nil)
        #expect(RedisClusterReply(error: "MOVED x 127.0.0.1:6381", answeredBy: node) == nil)
        #expect(RedisClusterReply(error: "OOM command not allowed", answeredBy: node) == nil)
        #expect(RedisClusterReply(error: "NOSCRIPT No matching script", answeredBy: node) == nil)
    }

    // MARK: - Retries

    private let policy = RedisClusterRetryPolicy(maxRedirects: 3, firstPause: .milliseconds(10), maxPause: .milliseconds(80))
    private let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func redirectsAreFollowedUpToTheCap() {
        let moved = RedisClientError.serverError("MOVED 7 10.0.0.2:7001")
        #expect(policy.decide(moved, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1))
            == .redirect(node: other, asking: false, movedSlot: 7))
        #expect(policy.decide(moved, from: node, redirects: 3, retries: 0, now: now, deadline: now + .seconds(1)) == .fail(refresh: true))
        let ask = RedisClientError.serverError("ASK 7 10.0.0.2:7001")
        #expect(policy.decide(ask, from: node, redirects: 2, retries: 0, now: now, deadline: now + .seconds(1))
            == .redirect(node: other, asking: true, movedSlot: nil))
    }

    @Test func whatDidNotRunIsRetriedWithGrowingPausesUntilTheDeadline() {
        let down = RedisClientError.serverError("CLUSTERDOWN The cluster is down")
        #expect(policy.decide(down, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(10), refresh: true))
        #expect(policy.decide(down, from: node, redirects: 0, retries: 2, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(40), refresh: true))
        #expect(policy.decide(down, from: node, redirects: 0, retries: 9, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(80), refresh: true))
        // No pause that would end past the deadline.
        #expect(policy.decide(down, from: node, redirects: 0, retries: 9, now: now, deadline: now + .milliseconds(80)) == .fail(refresh: true))
        let again = RedisClientError.serverError("TRYAGAIN Multiple keys request during rehashing of slot")
        #expect(policy.decide(again, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(10), refresh: false))
        let readOnly = RedisClientError.serverError("READONLY You can't write against a read only replica.")
        #expect(policy.decide(readOnly, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(10), refresh: true))
        let unreachable = RedisClientError.notConnected("Redis at 10.0.0.1:7000 is unreachable")
        #expect(policy.decide(unreachable, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(10), refresh: true))
    }

    @Test func withNoNodeAskedOnlyAnUnreachableSlotIsRetried() {
        let noPrimary = RedisClientError.notConnected("no primary of the Redis Cluster serves slot 7")
        #expect(policy.decide(noPrimary, from: nil, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .retry(after: .milliseconds(10), refresh: true))
        let moved = RedisClientError.serverError("MOVED 7 10.0.0.2:7001")
        #expect(policy.decide(moved, from: nil, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .fail(refresh: false))
    }

    @Test func whatMayHaveRunIsNeverSentAgain() {
        for error in [
            RedisClientError.connectionClosed("the connection to Redis closed"), .timeout("no reply"), .protocolError("bad bytes"),
        ] {
            #expect(policy.decide(error, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .fail(refresh: true))
        }
        for error in [RedisClientError.serverError("OOM command not allowed"), .serverError("NOSCRIPT No matching script"), .overloaded("full")] {
            #expect(policy.decide(error, from: node, redirects: 0, retries: 0, now: now, deadline: now + .seconds(1)) == .fail(refresh: false))
        }
    }

    @Test func seedListsAreRead() {
        #expect(RedisClusterConfiguration.seeds("10.0.0.1:7000, 10.0.0.2,[::1]:7002") == [
            node, RedisNodeAddress(host: "10.0.0.2", port: 6379), RedisNodeAddress(host: "::1", port: 7002),
        ])
        #expect(RedisClusterConfiguration.seeds("") == nil)
        #expect(RedisClusterConfiguration.seeds("a:1,,b:2") == nil)
        #expect(RedisClusterConfiguration.seeds("a:0") == nil)
        #expect(RedisClusterConfiguration.seeds("a:65536") == nil)
    }
}
