import SessionCore

/// Writes records in the data directory's format (docs/DURABLE-STORE.md): a 4-byte little-endian
/// payload length, a 4-byte CRC-32C of the length and the payload, then the payload.
enum RecordEncoder {
    /// Bytes before each payload: the length and the checksum.
    static let framing = 8
    /// The largest payload a reader accepts; a larger length is taken as corruption. A session's
    /// data is at most `--max-body-bytes` (16 MiB at most), so every record fits.
    static let maxPayload = 64 << 20

    /// Appends `record`, framed, to `buffer`.
    static func append(_ record: DurableRecord, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        switch record {
        case let .put(namespace, handle, session):
            buffer.append(DurableRecord.Kind.put.rawValue)
            appendKey(namespace, handle, to: &buffer)
            buffer.appendLittleEndian(session.version)
            buffer.appendLittleEndian(session.createdAt.millisecondsSinceEpoch)
            buffer.appendLittleEndian(session.updatedAt.millisecondsSinceEpoch)
            buffer.appendLittleEndian(session.expiresAt.millisecondsSinceEpoch)
            var flags: UInt8 = session.permanent ? 1 : 0
            if session.subject != nil { flags |= 2 }
            if session.lifetime != nil { flags |= 4 }
            if session.device != nil { flags |= 64 }
            if session.lastSeenAt != session.updatedAt { flags |= 128 }
            switch session.rotation {
            case .rotatedTo: flags |= 8
            case .pendingFrom: flags |= 16
            case .rotatedFrom: flags |= 32
            case nil: break
            }
            buffer.append(flags)
            if let lifetime = session.lifetime { buffer.appendLittleEndian(lifetime) }
            if let subject = session.subject {
                let bytes = Array(subject.value.utf8)
                buffer.appendLittleEndian(UInt16(bytes.count))
                buffer.append(contentsOf: bytes)
            }
            buffer.appendLittleEndian(UInt32(session.data.count))
            buffer.append(contentsOf: session.data)
            switch session.rotation {
            case let .rotatedTo(handle, readableUntil):
                buffer.appendLittleEndian(handle.high)
                buffer.appendLittleEndian(handle.low)
                buffer.appendLittleEndian(readableUntil.millisecondsSinceEpoch)
            case let .pendingFrom(handle), let .rotatedFrom(handle):
                buffer.appendLittleEndian(handle.high)
                buffer.appendLittleEndian(handle.low)
            case nil:
                break
            }
            if let device = session.device {
                buffer.appendLittleEndian(UInt32(device.count))
                buffer.append(contentsOf: device)
            }
            if session.lastSeenAt != session.updatedAt { buffer.appendLittleEndian(session.lastSeenAt.millisecondsSinceEpoch) }
        case let .remove(namespace, handle):
            buffer.append(DurableRecord.Kind.remove.rawValue)
            appendKey(namespace, handle, to: &buffer)
        case let .touch(namespace, handle, expiresAt, lastSeenAt):
            buffer.append(DurableRecord.Kind.touch.rawValue)
            appendKey(namespace, handle, to: &buffer)
            buffer.appendLittleEndian(expiresAt.millisecondsSinceEpoch)
            if let lastSeenAt { buffer.appendLittleEndian(lastSeenAt.millisecondsSinceEpoch) }
        case let .end(count):
            buffer.append(DurableRecord.Kind.end.rawValue)
            buffer.appendLittleEndian(count)
        }
        let length = UInt32(buffer.count - start - framing)
        withUnsafeBytes(of: length.littleEndian) { bytes in
            for (offset, byte) in bytes.enumerated() { buffer[start + offset] = byte }
        }
        let checksum = buffer.withUnsafeBytes { checksumOfFrame($0, start: start, length: Int(length)) }
        withUnsafeBytes(of: checksum.littleEndian) { bytes in
            for (offset, byte) in bytes.enumerated() { buffer[start + 4 + offset] = byte }
        }
    }

    /// The CRC-32C of the length field and the payload of the record at `start`.
    static func checksumOfFrame(_ bytes: UnsafeRawBufferPointer, start: Int, length: Int) -> UInt32 {
        CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: bytes[start..<(start + 4)]),
            UnsafeRawBufferPointer(rebasing: bytes[(start + framing)..<(start + framing + length)])
        )
    }

    private static func appendKey(_ namespace: String, _ handle: SessionHandle, to buffer: inout [UInt8]) {
        let name = Array(namespace.utf8)
        buffer.append(UInt8(truncatingIfNeeded: name.count))
        buffer.append(contentsOf: name)
        buffer.appendLittleEndian(handle.high)
        buffer.appendLittleEndian(handle.low)
    }
}
