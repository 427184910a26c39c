@testable import DurableStore
import SessionCore
import Testing

/// The bytes of the format: checksums, framing, and how a reader stops at a damaged tail.
@Suite("Record format")
struct RecordFormatTests {
    static let session = Session(
        id: MemoryStore.restoredID, data: Array(#"{"user":42,"cart":[1,2]}"#.utf8), permanent: true, subject: Subject("user-42"),
        lifetime: 300_000, version: 7, createdAt: Timestamp(millisecondsSinceEpoch: 1_796_119_200_000),
        updatedAt: Timestamp(millisecondsSinceEpoch: 1_796_119_260_000), expiresAt: Timestamp(millisecondsSinceEpoch: 1_796_119_560_000)
    )
    static let handle = SessionHandle(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
    static let records: [DurableRecord] = [
        .put(namespace: "shop", handle: handle, session: session),
        .touch(namespace: "shop", handle: handle, expiresAt: Timestamp(millisecondsSinceEpoch: 1_796_119_999_000), lastSeenAt: nil),
        .touch(
            namespace: "shop", handle: handle, expiresAt: Timestamp(millisecondsSinceEpoch: 1_796_119_999_000),
            lastSeenAt: Timestamp(millisecondsSinceEpoch: 1_796_119_900_000)
        ),
        .put(namespace: "", handle: SessionHandle(high: 1, low: 2), session: Session(
            id: MemoryStore.restoredID, data: Array("{}".utf8), permanent: false, version: 1,
            createdAt: Timestamp(millisecondsSinceEpoch: 1), updatedAt: Timestamp(millisecondsSinceEpoch: 1),
            expiresAt: Timestamp(millisecondsSinceEpoch: 2)
        )),
        .remove(namespace: "shop", handle: handle),
        .put(namespace: "shop", handle: SessionHandle(high: 3, low: 4), session: rotated(.rotatedTo(handle, readableUntil: Timestamp(millisecondsSinceEpoch: 9)))),
        .put(namespace: "shop", handle: SessionHandle(high: 5, low: 6), session: rotated(.pendingFrom(handle))),
        .put(namespace: "shop", handle: SessionHandle(high: 7, low: 8), session: rotated(.rotatedFrom(handle))),
        .put(namespace: "shop", handle: SessionHandle(high: 9, low: 10), session: seen),
    ]

    /// `session` with a device and a last-seen time of its own.
    static let seen: Session = {
        var seen = session
        seen.device = Array(#"{"ua":"Firefox","ip":"192.0.2.1"}"#.utf8)
        seen.lastSeenAt = Timestamp(millisecondsSinceEpoch: 1_796_119_400_000)
        return seen
    }()

    /// `session` with a rotation mark: every kind is kept by a put record.
    static func rotated(_ mark: RotationMark) -> Session {
        var marked = session
        marked.rotation = mark
        return marked
    }

    /// The records encoded one after the other, and where each ends.
    static func encoded(_ records: [DurableRecord] = records) -> ([UInt8], [Int]) {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for record in records {
            RecordEncoder.append(record, to: &bytes)
            ends.append(bytes.count)
        }
        return (bytes, ends)
    }

    /// Reads `bytes` to its stop.
    static func read(_ bytes: [UInt8]) -> ([DurableRecord], RecordReader.Stop, Int) {
        bytes.withUnsafeBytes { raw in
            var reader = RecordReader(raw, from: 0)
            var found: [DurableRecord] = []
            while true {
                switch reader.next() {
                case let .record(record): found.append(record)
                case let .stop(stop): return (found, stop, reader.offset)
                }
            }
        }
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test func recordsReadBackExactly() {
        let (bytes, ends) = Self.encoded()
        let (found, stop, offset) = Self.read(bytes)
        #expect(found == Self.records)
        #expect(stop == .endOfFile)
        #expect(offset == ends.last)
    }

    @Test func everyTornTailIsCutAtTheLastWholeRecord() {
        let (bytes, ends) = Self.encoded()
        let lastStart = ends[ends.count - 2]
        for length in lastStart..<bytes.count {
            let (found, stop, offset) = Self.read(Array(bytes.prefix(length)))
            #expect(found == Array(Self.records.dropLast()), "cut at \(length)")
            #expect(offset == lastStart)
            #expect(stop == (length == lastStart ? .endOfFile : .torn), "cut at \(length)")
        }
    }

    @Test func everyFlippedBitOfTheLastRecordIsCaught() {
        let (bytes, ends) = Self.encoded()
        let lastStart = ends[ends.count - 2]
        for index in lastStart..<bytes.count {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= 1 << bit
                let (found, stop, offset) = Self.read(damaged)
                #expect(found == Array(Self.records.dropLast()), "byte \(index) bit \(bit)")
                #expect(offset == lastStart)
                #expect(stop != .endOfFile, "byte \(index) bit \(bit)")
            }
        }
    }

    @Test func aFlippedBitInTheMiddleStopsThereAndKeepsWhatCameBefore() {
        let (bytes, ends) = Self.encoded()
        var damaged = bytes
        damaged[ends[0] + 20] ^= 0x10
        let (found, stop, offset) = Self.read(damaged)
        #expect(found == [Self.records[0]])
        #expect(stop == .corrupt)
        #expect(offset == ends[0])
    }

    @Test(arguments: [1, 7, 8, 100, 4096])
    func aZeroFilledTailIsCorruptNotARecord(zeros: Int) {
        let (bytes, ends) = Self.encoded()
        let (found, stop, offset) = Self.read(bytes + [UInt8](repeating: 0, count: zeros))
        #expect(found == Self.records)
        #expect(stop == (zeros < RecordEncoder.framing ? .torn : .corrupt))
        #expect(offset == ends.last)
    }

    @Test func headersSayKindGenerationAndVersion() throws {
        let header = FileHeader(kind: .log, generation: 42)
        let bytes = header.bytes
        #expect(bytes.count == FileHeader.size)
        #expect(try bytes.withUnsafeBytes { try FileHeader.read($0) } == header)

        var otherVersion = bytes
        otherVersion[8] = 3
        #expect(throws: FileHeader.Problem.unsupportedVersion(3)) { try otherVersion.withUnsafeBytes { try FileHeader.read($0) } }
        var notOurs = bytes
        notOurs[0] = UInt8(ascii: "X")
        #expect(throws: FileHeader.Problem.notADataFile) { try notOurs.withUnsafeBytes { try FileHeader.read($0) } }
        var flipped = bytes
        flipped[17] ^= 1
        #expect(throws: FileHeader.Problem.corrupt) { try flipped.withUnsafeBytes { try FileHeader.read($0) } }
        let zeros = [UInt8](repeating: 0, count: FileHeader.size)
        #expect(throws: FileHeader.Problem.incomplete) { try zeros.withUnsafeBytes { try FileHeader.read($0) } }
        #expect(throws: FileHeader.Problem.incomplete) { try Array(bytes.prefix(10)).withUnsafeBytes { try FileHeader.read($0) } }
    }
}
