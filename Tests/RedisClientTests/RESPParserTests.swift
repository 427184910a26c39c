import NIOCore
import RedisClient
import Testing

@Suite("RESP parsing with hiredis' reader")
struct RESPParserTests {
    private func parseAll(_ chunks: [[UInt8]]) throws -> [RESPValue] {
        let parser = try RESPParser()
        var replies: [RESPValue] = []
        for chunk in chunks {
            try chunk.withUnsafeBytes { bytes in try parser.feed(bytes) }
            while let reply = try parser.next() { replies.append(reply) }
        }
        return replies
    }

    static let stream = Array(
        "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n$-1\r\n*3\r\n:1\r\n*-1\r\n*2\r\n$1\r\na\r\n*0\r\n*-1\r\n".utf8
    )
    static let expected: [RESPValue] = [
        .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(Array("he\r\no".utf8)), .bulkString([]), .null,
        .array([.integer(1), .null, .array([.bulkString(Array("a".utf8)), .array([])])]), .null,
    ]

    @Test func everyReplyKind() throws {
        let replies = try parseAll([Self.stream])
        #expect(replies == Self.expected)
    }

    @Test func repliesSplitAtEveryByteBoundary() throws {
        for split in 0...Self.stream.count {
            let chunks = [Array(Self.stream[..<split]), Array(Self.stream[split...])]
            let replies = try parseAll(chunks)
            #expect(replies == Self.expected, "split at \(split)")
        }
    }

    @Test func oneByteAtATime() throws {
        let chunks = Self.stream.map { [$0] }
        let replies = try parseAll(chunks)
        #expect(replies == Self.expected)
    }

    @Test func largeBulkStrings() throws {
        let payload = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let bytes = Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n".utf8)
        var chunks: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 65_536)
            chunks.append(Array(bytes[offset..<end]))
            offset = end
        }
        let replies = try parseAll(chunks)
        #expect(replies == [.bulkString(payload)])
    }

    /// RESP3's types (a map, a set, a double, a boolean, a RESP3 null, a push, a big number,
    /// verbatim text) are errors, never read as a null or anything else.
    @Test(arguments: ["%1\r\n+a\r\n:1\r\n", "~1\r\n:1\r\n", ",1.5\r\n", "#t\r\n", "_\r\n", ">2\r\n+message\r\n+x\r\n", "(123\r\n", "=7\r\ntxt:abc\r\n", "*1\r\n#f\r\n"])
    func aReplyTypeThisClientDoesNotSpeakIsAnError(reply: String) {
        do {
            let replies = try parseAll([Array(reply.utf8)])
            Issue.record("\(reply.debugDescription) read as \(replies)")
        } catch {
            #expect((error as? RedisClientError)?.code == .protocolError)
        }
    }

    @Test func garbageIsAProtocolError() {
        for garbage in ["?what\r\n", "$abc\r\n"] {
            do {
                _ = try parseAll([Array(garbage.utf8)])
                Issue.record("\(garbage) parsed")
            } catch {
                #expect((error as? RedisClientError)?.code == .protocolError)
            }
        }
    }

    @Test func commandsAreEncodedAsArraysOfBulkStrings() {
        var out = ByteBuffer()
        RESPCommandEncoder.write(RedisCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "k"), ByteBuffer(bytes: [0, 13, 10])]), into: &out)
        #expect(Array(out.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0, 13, 10] + Array("\r\n".utf8))
    }
}
