import SessionCore
import Testing

@Suite("Timestamps, lifetimes and durations")
struct TimeTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_796_119_200_000), "2026-12-01T10:00:00.000Z"),
        (Int64(951_782_400_123), "2000-02-29T00:00:00.123Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (Int64(253_402_300_799_999), "9999-12-31T23:59:59.999Z"),
        (Int64.max, "9999-12-31T23:59:59.999Z"),
    ])
    func rfc3339(milliseconds: Int64, expected: String) {
        #expect(Timestamp(millisecondsSinceEpoch: milliseconds).rfc3339 == expected)
    }

    @Test func lifetimeDependsOnPermanence() {
        let policy = LifetimePolicy()
        let start = Timestamp(millisecondsSinceEpoch: 1_000_000)
        #expect(policy.expiry(createdAt: start, now: start, permanent: false) == start.adding(milliseconds: 86_400_000))
        #expect(policy.expiry(createdAt: start, now: start, permanent: true) == start.adding(milliseconds: 31 * 86_400_000))
    }

    @Test func absoluteLifetimeCapsTheSlidingExpiry() {
        let policy = LifetimePolicy(permanent: 10_000, standard: 5000, absolute: 12_000)
        let created = Timestamp(millisecondsSinceEpoch: 0)
        #expect(policy.expiry(createdAt: created, now: Timestamp(millisecondsSinceEpoch: 1000), permanent: false).millisecondsSinceEpoch == 6000)
        #expect(policy.expiry(createdAt: created, now: Timestamp(millisecondsSinceEpoch: 9000), permanent: false).millisecondsSinceEpoch == 12_000)
        #expect(policy.expiry(createdAt: created, now: Timestamp(millisecondsSinceEpoch: 5000), permanent: true).millisecondsSinceEpoch == 12_000)
    }

    @Test(arguments: [
        ("3600", Int64(3_600_000)), ("90s", 90_000), ("30m", 1_800_000), ("12h", 43_200_000), ("31d", 2_678_400_000), ("1", 1000), ("250ms", 250),
    ])
    func durations(text: String, milliseconds: Int64) {
        #expect(DurationText.milliseconds(text) == milliseconds)
    }

    @Test(arguments: ["", "0", "0s", "-5", "5x", "s", "1.5h", " 5", "5 s", "99999999999999999999", "999999999999999d", "ms", "0ms", "5sm"])
    func invalidDurations(text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }

    @Test func ttlRoundsUpAndIsZeroOnceExpired() {
        let session = Session(
            id: .random(), data: [], permanent: false, version: 1,
            createdAt: Timestamp(millisecondsSinceEpoch: 0), updatedAt: Timestamp(millisecondsSinceEpoch: 0),
            expiresAt: Timestamp(millisecondsSinceEpoch: 10_000)
        )
        #expect(session.ttlSeconds(at: Timestamp(millisecondsSinceEpoch: 0)) == 10)
        #expect(session.ttlSeconds(at: Timestamp(millisecondsSinceEpoch: 9_999)) == 1)
        #expect(session.ttlSeconds(at: Timestamp(millisecondsSinceEpoch: 10_000)) == 0)
        #expect(session.isLive(at: Timestamp(millisecondsSinceEpoch: 9_999)))
        #expect(!session.isLive(at: Timestamp(millisecondsSinceEpoch: 10_000)))
    }
}
