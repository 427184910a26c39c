import SessionCore
import Testing

@Suite("Event IDs and the embedded store's event history")
struct SessionEventRingTests {
    let start = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
    let handle = SessionHandle(SessionID.random())

    @Test func eventIDsParseOnlyTheirOwnForm() {
        #expect(EventID("1795956493261-7") == EventID(milliseconds: 1_795_956_493_261, sequence: 7))
        #expect(EventID("0") == EventID(milliseconds: 0, sequence: 0))
        for bad in ["", "-", "1-", "-1", "1-2-3", "a-1", "1-a", " 1-1", "+1-1", "18446744073709551616-0", "123456789012345678901-0"] {
            #expect(EventID(bad) == nil, "\(bad)")
        }
        #expect(EventID("5-1")! < EventID("5-2")! && EventID("5-99")! < EventID("6-0")!)
    }

    @Test func idsGrowEvenWhenTheClockStandsStillOrGoesBack() {
        let ring = SessionEventRing(capacity: 10, startedAt: start)
        let a = ring.append(.created, handle: handle, subject: nil, device: nil, time: start)
        let b = ring.append(.deleted, handle: handle, subject: nil, device: nil, time: start)
        let c = ring.append(.created, handle: handle, subject: nil, device: nil, time: start.adding(milliseconds: -5))
        #expect(a < b && b < c)
        #expect(a == EventID(milliseconds: 1_800_000_000_000, sequence: 1) && c == EventID(milliseconds: 1_800_000_000_000, sequence: 3))
    }

    @Test func anEventTimedBeforeTheHistoryBeganStillComesAfterAReaderThatStartedThen() {
        // A durable store's first sweep after a restart tells of expiries that happened while
        // it was down: those events must reach a reader who asked for "from now" at start.
        let ring = SessionEventRing(capacity: 10, startedAt: start)
        let reader = ring.read(after: nil, limit: 10)
        let late = ring.append(.expired, handle: handle, subject: nil, device: nil, time: start.adding(milliseconds: -60_000))
        #expect(ring.read(after: reader.cursor, limit: 10).events.map(\.id) == [late])
    }

    @Test func readingPagesResumesAfterTheCursor() {
        let ring = SessionEventRing(capacity: 100, startedAt: start)
        let now = ring.read(after: nil, limit: 10)
        let ids = (0..<7).map { ring.append(.created, handle: handle, subject: nil, device: nil, time: start.adding(milliseconds: Int64($0))) }
        let first = ring.read(after: now.cursor, limit: 4)
        #expect(first.events.map(\.id) == Array(ids[0..<4]) && !first.missed)
        let rest = ring.read(after: first.cursor, limit: 4)
        #expect(rest.events.map(\.id) == Array(ids[4...]))
        let none = ring.read(after: rest.cursor, limit: 4)
        #expect(none.events.isEmpty && none.cursor == rest.cursor)
    }

    @Test func aFullRingDropsTheOldestAndSaysSoToThoseBehind() {
        let ring = SessionEventRing(capacity: 3, startedAt: start)
        let ids = (0..<5).map { ring.append(.created, handle: handle, subject: nil, device: nil, time: start.adding(milliseconds: Int64($0))) }
        #expect(ring.count == 3)
        let behind = ring.read(after: ids[0], limit: 10)
        #expect(behind.missed && behind.events.map(\.id) == Array(ids[2...]))
        let justInTime = ring.read(after: ids[1], limit: 10)
        #expect(!justInTime.missed && justInTime.events.map(\.id) == Array(ids[2...]))
        // ID 0 asks for everything held, and is not told of what was dropped.
        let everything = ring.read(after: EventID(milliseconds: 0, sequence: 0), limit: 10)
        #expect(!everything.missed && everything.events.count == 3)
        // An ID from before this history began (an earlier process): missed.
        #expect(ring.read(after: EventID(milliseconds: 1_700_000_000_000, sequence: 0), limit: 10).missed)
    }

    @Test func behindAnEmptyHistoryTheCursorMovesPastTheGap() {
        // Right after a restart: nothing held, and the reader's ID is an earlier process's.
        let ring = SessionEventRing(capacity: 3, startedAt: start)
        let old = EventID(milliseconds: 1_700_000_000_000, sequence: 4)
        let first = ring.read(after: old, limit: 10)
        #expect(first.missed && first.events.isEmpty && first.cursor > old)
        let again = ring.read(after: first.cursor, limit: 10)
        #expect(!again.missed)
    }
}
