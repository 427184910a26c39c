import SessionCore

/// Reads the framed records of one file's bytes, after its header, one at a time, and says
/// where and why it stopped.
///
/// A record is accepted only whole: its length within the file, its checksum right and its
/// payload decodable. The first record that is not ends the good part of the file: what
/// follows is a torn or corrupt tail (a write cut short by a crash, a bit flipped, a tail of
/// zeros left by a file system after a power failure).
struct RecordReader {
    /// Why reading stopped.
    enum Stop: Hashable, Sendable {
        /// Every byte was a good record.
        case endOfFile
        /// The last record is cut short: fewer bytes than its framing or length says.
        case torn
        /// A record's length is impossible, its checksum does not match, or its payload does
        /// not decode.
        case corrupt
    }

    private let bytes: UnsafeRawBufferPointer
    /// Where the next record starts; after a stop, the end of the good part.
    private(set) var offset: Int

    /// Reads `bytes` from `offset` (just after the header).
    init(_ bytes: UnsafeRawBufferPointer, from offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    /// What `next()` found.
    enum Step: Hashable, Sendable {
        case record(DurableRecord)
        case stop(Stop)
    }

    /// The next record, or why there is none; on a stop, `offset` stays at the end of the last
    /// good record.
    mutating func next() -> Step {
        let left = bytes.count - offset
        guard left > 0 else { return .stop(.endOfFile) }
        guard left >= RecordEncoder.framing else { return .stop(.torn) }
        let length = Int(bytes.loadLittleEndian(UInt32.self, at: offset))
        guard length >= 1, length <= RecordEncoder.maxPayload else { return .stop(.corrupt) }
        guard left - RecordEncoder.framing >= length else { return .stop(.torn) }
        let checksum = bytes.loadLittleEndian(UInt32.self, at: offset + 4)
        guard RecordEncoder.checksumOfFrame(bytes, start: offset, length: length) == checksum else {
            return .stop(.corrupt)
        }
        let payloadStart = offset + RecordEncoder.framing
        var payload = PayloadReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + length)]))
        guard let record = payload.record(), payload.atEnd else { return .stop(.corrupt) }
        offset = payloadStart + length
        return .record(record)
    }
}

/// Decodes one record's payload; nil for anything malformed.
private struct PayloadReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func record() -> DurableRecord? {
        guard let kindByte = byte(), let kind = DurableRecord.Kind(rawValue: kindByte) else { return nil }
        switch kind {
        case .put:
            guard let (namespace, handle) = key(), let version = integer(UInt64.self), let created = integer(Int64.self),
                  let updated = integer(Int64.self), let expires = integer(Int64.self), let flags = byte(),
                  [0, 8, 16, 32].contains(flags & 56)
            else { return nil }
            var lifetime: Int64?
            if flags & 4 != 0 {
                guard let value = integer(Int64.self) else { return nil }
                lifetime = value
            }
            var subject: Subject?
            if flags & 2 != 0 {
                guard let count = integer(UInt16.self), let text = string(Int(count)), let value = Subject(text) else { return nil }
                subject = value
            }
            guard let count = integer(UInt32.self), let data = take(Int(count)) else { return nil }
            var rotation: RotationMark?
            if flags & 56 != 0 {
                guard let high = integer(UInt64.self), let low = integer(UInt64.self) else { return nil }
                let other = SessionHandle(high: high, low: low)
                switch flags & 56 {
                case 8:
                    guard let until = integer(Int64.self) else { return nil }
                    rotation = .rotatedTo(other, readableUntil: Timestamp(millisecondsSinceEpoch: until))
                case 16: rotation = .pendingFrom(other)
                default: rotation = .rotatedFrom(other)
                }
            }
            var device: [UInt8]?
            if flags & 64 != 0 {
                guard let count = integer(UInt32.self), let bytes = take(Int(count)) else { return nil }
                device = Array(bytes)
            }
            var lastSeen: Timestamp?
            if flags & 128 != 0 {
                guard let value = integer(Int64.self) else { return nil }
                lastSeen = Timestamp(millisecondsSinceEpoch: value)
            }
            let session = Session(
                id: MemoryStore.restoredID, data: Array(data), permanent: flags & 1 != 0, subject: subject, lifetime: lifetime,
                version: version, createdAt: Timestamp(millisecondsSinceEpoch: created),
                updatedAt: Timestamp(millisecondsSinceEpoch: updated), expiresAt: Timestamp(millisecondsSinceEpoch: expires),
                rotation: rotation, device: device, lastSeenAt: lastSeen
            )
            return .put(namespace: namespace, handle: handle, session: session)
        case .remove:
            guard let (namespace, handle) = key() else { return nil }
            return .remove(namespace: namespace, handle: handle)
        case .touch:
            guard let (namespace, handle) = key(), let expires = integer(Int64.self) else { return nil }
            // Format 2 adds the last-seen time; a record of format 1 ends before it.
            var lastSeen: Timestamp?
            if !atEnd {
                guard let value = integer(Int64.self) else { return nil }
                lastSeen = Timestamp(millisecondsSinceEpoch: value)
            }
            return .touch(namespace: namespace, handle: handle, expiresAt: Timestamp(millisecondsSinceEpoch: expires), lastSeenAt: lastSeen)
        case .end:
            guard let count = integer(UInt64.self) else { return nil }
            return .end(count: count)
        }
    }

    private mutating func key() -> (String, SessionHandle)? {
        guard let count = byte(), let namespace = string(Int(count)), let high = integer(UInt64.self), let low = integer(UInt64.self)
        else { return nil }
        return (namespace, SessionHandle(high: high, low: low))
    }

    private mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        guard bytes.count - offset >= MemoryLayout<T>.size else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return bytes.loadLittleEndian(T.self, at: offset)
    }

    private mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
        guard bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    /// `count` bytes of valid UTF-8.
    private mutating func string(_ count: Int) -> String? {
        guard let raw = take(count) else { return nil }
        return String(validating: raw, as: UTF8.self)
    }
}
