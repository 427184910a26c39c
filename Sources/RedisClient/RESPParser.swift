internal import CHiredis

/// Incremental RESP parser on hiredis' `redisReader`: feed bytes as they arrive, take replies
/// as they complete. Replies split across reads at any byte are put together by hiredis.
///
/// Owns its `redisReader` (freed in `deinit`); every `redisReply` it gets is converted to a
/// `RESPValue` and freed at once. Not thread-safe: one parser per connection, used on its loop.
public final class RESPParser {
    private let reader: UnsafeMutablePointer<redisReader>

    /// - Throws: `RedisClientError.outOfMemory` when hiredis cannot allocate its reader.
    public init() throws(RedisClientError) {
        guard let reader = redisReaderCreate() else { throw .outOfMemory }
        self.reader = reader
        // Keep up to 1 MiB of buffer between reads instead of shrinking at 16 KiB.
        chiredis_reader_set_maxbuf(reader, 1 << 20)
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands `bytes` to the parser (hiredis copies them).
    /// - Throws: `RedisClientError.protocolError` when the stream is already broken.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisClientError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) != REDIS_OK {
            throw .protocolError(readerError())
        }
    }

    /// The next complete reply, or nil when more bytes are needed.
    /// - Throws: `RedisClientError.protocolError` when the bytes are not RESP; the connection
    ///   must be closed then.
    public func next() throws(RedisClientError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw .protocolError(readerError())
        }
        guard let raw else { return nil }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return try Self.convert(reply)
    }

    private func readerError() -> String {
        guard let text = chiredis_reader_error(reader) else { return "unknown protocol error" }
        return String(cString: text)
    }

    /// The reply as a `RESPValue`.
    /// - Throws: `RedisClientError.protocolError` for a type this client does not speak (RESP3's
    ///   maps, sets, doubles, booleans, pushes, or anything newer): never read as a null.
    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) throws(RedisClientError) -> RESPValue {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulkString(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                guard let element = value.element?[index] else { throw .protocolError("an array reply with a missing element") }
                elements.append(try convert(element))
            }
            return .array(elements)
        case REDIS_REPLY_NIL:
            return .null
        default:
            throw .protocolError("a reply of type \(value.type), which this client does not speak (RESP2 only; RESP3 or newer?)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
