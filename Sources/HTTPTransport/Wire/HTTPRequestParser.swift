import NIOCore
import NIOHTTP1

/// An incremental, strict HTTP/1.1 request parser (RFC 9112): the caller appends what arrives to
/// one buffer and asks for the next part until there is none yet.
///
/// Strict where leniency lets two parsers disagree about where a request ends (request
/// smuggling): lines end with CRLF only; no whitespace before a header's colon, no obsolete line
/// folding, no control characters in values; `Content-Length` and `Transfer-Encoding` never
/// together; `Transfer-Encoding` only on HTTP/1.1 and only as `chunked`. `Upgrade` means nothing
/// here (sessiond speaks HTTP/1.1 only; RFC 9110 §7.8 lets a server ignore it), and `CONNECT` is
/// parsed as any other request so that its answer keeps the connection in step.
///
/// A value type with no I/O: the connection handler feeds it, tests and fuzzers drive it alone.
struct HTTPRequestParser {
    /// One part of a request, in wire order: a head, zero or more body pieces, an end.
    enum Part {
        case head(HTTPRequestHead, Framing)
        case body(ByteBuffer)
        case end
    }

    /// How the body of a request is delimited.
    enum Framing: Hashable {
        case none
        case length(Int)
        case chunked
    }

    private enum State {
        /// Looking for the end of a head; `scanned` bytes were searched already.
        case head(scanned: Int)
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        /// After the last chunk: trailer lines, read and dropped, until an empty line.
        case trailers(read: Int)
        /// The request ended; `.end` is returned next.
        case ending
    }

    /// The whole head (request line, header lines and their CRLFs, the empty line) may take
    /// this many bytes; the trailers of a chunked body too.
    let maxHeadBytes: Int
    private var state = State.head(scanned: 0)

    /// A chunk-size line (size and extensions) longer than this is refused.
    static let maxChunkSizeLine = 4096

    init(maxHeadBytes: Int = 81_920) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Whether no byte of the current request has been consumed yet.
    var isBetweenRequests: Bool {
        if case .head(0) = state { return true }
        return false
    }

    /// The next part from `buffer`, consuming its bytes; nil when more bytes are needed.
    ///
    /// - Throws: `HTTPParseError` (only that) when the bytes are not a request this parser
    ///   accepts. The parser is then in no defined state: the connection must close.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Part? {
        switch state {
        case let .head(scanned):
            return try parseHead(&buffer, scanned: scanned)
        case let .fixedBody(remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let count = min(remaining, buffer.readableBytes)
            let piece = buffer.readSlice(length: count) ?? ByteBuffer()
            state = remaining == count ? .ending : .fixedBody(remaining: remaining - count)
            return .body(piece)
        case .chunkSize:
            guard let size = try readChunkSize(&buffer) else { return nil }
            state = size == 0 ? .trailers(read: 0) : .chunkData(remaining: size)
            return try next(&buffer)
        case let .chunkData(remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let count = min(remaining, buffer.readableBytes)
            let piece = buffer.readSlice(length: count) ?? ByteBuffer()
            state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            return .body(piece)
        case .chunkDataEnd:
            guard buffer.readableBytes >= 2 else { return nil }
            guard buffer.readInteger(as: UInt16.self) == Self.crlf else {
                throw HTTPParseError(.malformed, "a chunk's data is not followed by CRLF")
            }
            state = .chunkSize
            return try next(&buffer)
        case let .trailers(read):
            return try skipTrailers(&buffer, read: read)
        case .ending:
            state = .head(scanned: 0)
            return .end
        }
    }

    // MARK: - Head

    private static let crlf: UInt16 = 0x0D0A
    private static let cr: UInt8 = 0x0D
    private static let lf: UInt8 = 0x0A

    private mutating func parseHead(_ buffer: inout ByteBuffer, scanned: Int) throws -> Part? {
        var scanned = scanned
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == Self.crlf {
            buffer.moveReaderIndex(forwardBy: 2)
            scanned = max(scanned - 2, 0)
        }
        let found = try buffer.withUnsafeReadableBytes { bytes in
            try Self.findEndOfHead(bytes, from: scanned, limit: maxHeadBytes)
        }
        guard let end = found else {
            state = .head(scanned: buffer.readableBytes)
            return nil
        }
        let (head, framing) = try buffer.withUnsafeReadableBytes { bytes in
            try Self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<(end - 2)]))
        }
        buffer.moveReaderIndex(forwardBy: end)
        switch framing {
        case .none, .length(0): state = .ending
        case let .length(count): state = .fixedBody(remaining: count)
        case .chunked: state = .chunkSize
        }
        return .head(head, framing)
    }

    /// The offset just past the empty line that ends the head, or nil when it has not arrived.
    /// Bytes before `from` were checked by an earlier call.
    private static func findEndOfHead(_ bytes: UnsafeRawBufferPointer, from: Int, limit: Int) throws -> Int? {
        var index = max(from, 0)
        let count = bytes.count
        let end = min(count, limit + 1)
        while index < end {
            let byte = bytes[index]
            if byte == lf {
                guard index > 0, bytes[index - 1] == cr else {
                    throw HTTPParseError(.malformed, "a line of the head ends with a bare LF; lines end with CRLF")
                }
                if index >= 3, bytes[index - 2] == lf {
                    guard index + 1 <= limit else { throw tooLarge(bytes, limit: limit) }
                    return index + 1
                }
            } else if index > 0, bytes[index - 1] == cr {
                throw HTTPParseError(.malformed, "a CR in the head is not followed by LF")
            }
            index += 1
        }
        if count > limit { throw tooLarge(bytes, limit: limit) }
        return nil
    }

    private static func tooLarge(_ bytes: UnsafeRawBufferPointer, limit: Int) -> HTTPParseError {
        let firstLineEnds = bytes.prefix(limit).contains(lf)
        if firstLineEnds {
            return HTTPParseError(.headTooLarge, "the request head exceeds the limit of \(limit) bytes")
        }
        return HTTPParseError(.targetTooLong, "the request line exceeds the limit of \(limit) bytes")
    }

    /// Parses a complete head (without its final empty line).
    private static func parseHead(_ head: UnsafeRawBufferPointer) throws -> (HTTPRequestHead, Framing) {
        var lines = HeadLines(head)
        guard let requestLine = lines.next() else { throw HTTPParseError(.malformed, "the request line is missing") }
        let (method, target, version) = try parseRequestLine(requestLine)
        var fields: [(String, String)] = []
        var lengths: [UInt8] = []
        var sawLength = false
        var codings: [String] = []
        while let line = lines.next() {
            let (name, value) = try parseField(line)
            let field = (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
            if equalsIgnoringCase(name, "content-length") {
                sawLength = true
                if !lengths.isEmpty { lengths.append(UInt8(ascii: ",")) }
                lengths.append(contentsOf: value)
            } else if equalsIgnoringCase(name, "transfer-encoding") {
                codings += field.1.split(separator: ",").map { $0.trimmingBlanks().lowercased() }.filter { !$0.isEmpty }
                if codings.isEmpty && field.1.trimmingBlanks().isEmpty { codings.append("") }
            }
            fields.append(field)
        }
        let framing = try framing(version: version, lengths: sawLength ? lengths : nil, codings: codings)
        return (HTTPRequestHead(version: version, method: method, uri: target, headers: HTTPHeaders(fields)), framing)
    }

    private static func parseRequestLine(_ line: UnsafeRawBufferPointer) throws -> (HTTPMethod, String, HTTPVersion) {
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else {
            throw HTTPParseError(.malformed, "the request line is not METHOD SP target SP HTTP-version")
        }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPParseError(.malformed, "the request target is empty or holds a character that must be percent-encoded")
        }
        let version = parts[2]
        guard version.count == 8, version.starts(with: "HTTP/".utf8), version[version.startIndex + 6] == UInt8(ascii: "."),
              case let major = version[version.startIndex + 5], case let minor = version[version.startIndex + 7],
              isDigit(major), isDigit(minor)
        else {
            throw HTTPParseError(.malformed, "the HTTP version is not HTTP/1.1 or HTTP/1.0")
        }
        guard major == UInt8(ascii: "1") else {
            throw HTTPParseError(.unsupportedVersion, "sessiond speaks HTTP/1.1 and HTTP/1.0 only")
        }
        let method = HTTPMethod(rawValue: String(decoding: parts[0], as: UTF8.self))
        let target = String(decoding: parts[1], as: UTF8.self)
        return (method, target, HTTPVersion(major: 1, minor: minor == UInt8(ascii: "0") ? 0 : 1))
    }

    private static func parseField(_ line: UnsafeRawBufferPointer) throws -> (Slice<UnsafeRawBufferPointer>, Slice<UnsafeRawBufferPointer>) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            if let first = line.first, first == 0x20 || first == 0x09 {
                throw HTTPParseError(.malformed, "obsolete line folding is not accepted")
            }
            throw HTTPParseError(.malformed, "a header line has no colon")
        }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw HTTPParseError(.malformed, "a header name is empty or holds a character a name may not (whitespace before the colon, say)")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw HTTPParseError(.malformed, "a header value holds a control character")
        }
        return (name, value)
    }

    /// The body's framing (RFC 9112 §6.3), from every `Content-Length` value joined by commas
    /// (nil when there was none) and every transfer coding in order.
    private static func framing(version: HTTPVersion, lengths: [UInt8]?, codings: [String]) throws -> Framing {
        if !codings.isEmpty {
            guard version.minor >= 1 else {
                throw HTTPParseError(.malformed, "an HTTP/1.0 request may not carry Transfer-Encoding (RFC 9112 §6.1)")
            }
            guard lengths == nil else {
                throw HTTPParseError(.malformed, "a request may not carry both Content-Length and Transfer-Encoding")
            }
            guard codings.last == "chunked", !codings.dropLast().contains("chunked") else {
                throw HTTPParseError(.malformed, "chunked must be the final transfer coding, and only once")
            }
            guard codings.count == 1 else {
                throw HTTPParseError(.unsupportedTransferCoding, "sessiond understands the chunked transfer coding only")
            }
            return .chunked
        }
        guard let lengths else { return .none }
        var value: Int?
        for piece in lengths.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var digits = piece[...]
            while let first = digits.first, first == 0x20 || first == 0x09 { digits = digits.dropFirst() }
            while let last = digits.last, last == 0x20 || last == 0x09 { digits = digits.dropLast() }
            guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(isDigit) else {
                throw HTTPParseError(.malformed, "Content-Length is not a number of bytes")
            }
            let parsed = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value == nil || value == parsed else {
                throw HTTPParseError(.malformed, "Content-Length is given with different values")
            }
            value = parsed
        }
        return .length(value ?? 0)
    }

    // MARK: - Chunked body

    /// The size of the next chunk, consuming its line; nil when the line has not arrived whole.
    private func readChunkSize(_ buffer: inout ByteBuffer) throws -> Int? {
        let found = buffer.withUnsafeReadableBytes { $0.prefix(Self.maxChunkSizeLine).firstIndex(of: Self.lf) }
        guard let lineFeed = found else {
            guard buffer.readableBytes < Self.maxChunkSizeLine else {
                throw HTTPParseError(.malformed, "a chunk-size line is longer than \(Self.maxChunkSizeLine) bytes")
            }
            return nil
        }
        let size = try buffer.withUnsafeReadableBytes { bytes throws -> Int in
            guard lineFeed > 0, bytes[lineFeed - 1] == Self.cr else {
                throw HTTPParseError(.malformed, "a chunk-size line does not end with CRLF")
            }
            let line = bytes[..<(lineFeed - 1)]
            let digits = line.prefix(while: isHexDigit)
            guard !digits.isEmpty, digits.count <= 15 else {
                throw HTTPParseError(.malformed, "a chunk size is not a hexadecimal number of bytes")
            }
            var rest = line[digits.endIndex...]
            while let first = rest.first, first == 0x20 || first == 0x09 { rest = rest.dropFirst() }
            guard rest.isEmpty || rest.first == UInt8(ascii: ";") else {
                throw HTTPParseError(.malformed, "a chunk size is followed by something other than an extension")
            }
            guard rest.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw HTTPParseError(.malformed, "a chunk extension holds a control character")
            }
            return digits.reduce(0) { $0 << 4 | hexValue($1) }
        }
        buffer.moveReaderIndex(forwardBy: lineFeed + 1)
        return size
    }

    /// Reads and drops trailer lines until the empty line; `.end` then. Trailers count against
    /// the head limit.
    private mutating func skipTrailers(_ buffer: inout ByteBuffer, read: Int) throws -> Part? {
        var read = read
        while true {
            let found = buffer.withUnsafeReadableBytes { $0.firstIndex(of: Self.lf) }
            guard let lineFeed = found else {
                guard read + buffer.readableBytes <= maxHeadBytes else {
                    throw HTTPParseError(.headTooLarge, "the trailer section exceeds the limit of \(maxHeadBytes) bytes")
                }
                state = .trailers(read: read)
                return nil
            }
            let line = try buffer.withUnsafeReadableBytes { bytes throws -> Int in
                guard lineFeed > 0, bytes[lineFeed - 1] == Self.cr else {
                    throw HTTPParseError(.malformed, "a trailer line does not end with CRLF")
                }
                if lineFeed > 1 { _ = try Self.parseField(UnsafeRawBufferPointer(rebasing: bytes[..<(lineFeed - 1)])) }
                return lineFeed + 1
            }
            read += line
            guard read <= maxHeadBytes else {
                throw HTTPParseError(.headTooLarge, "the trailer section exceeds the limit of \(maxHeadBytes) bytes")
            }
            buffer.moveReaderIndex(forwardBy: line)
            if line == 2 {
                state = .head(scanned: 0)
                return .end
            }
        }
    }
}

// MARK: - Bytes

/// The CRLF-separated lines of a head.
private struct HeadLines {
    private var rest: Slice<UnsafeRawBufferPointer>

    init(_ head: UnsafeRawBufferPointer) { rest = head[...] }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard !rest.isEmpty else { return nil }
        guard let lineFeed = rest.firstIndex(of: 0x0A) else {
            defer { rest = rest[rest.endIndex...] }
            return UnsafeRawBufferPointer(rebasing: rest)
        }
        defer { rest = rest[(lineFeed + 1)...] }
        return UnsafeRawBufferPointer(rebasing: rest[..<(lineFeed - 1)])
    }
}

/// RFC 9110 §5.6.2 `tchar`.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
        UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
        UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
}

private func hexValue(_ byte: UInt8) -> Int {
    isDigit(byte) ? Int(byte - UInt8(ascii: "0")) : Int((byte | 0x20) - UInt8(ascii: "a")) + 10
}

/// Whether `bytes` spell `lowercase` in any case (`lowercase` is ASCII lowercase).
private func equalsIgnoringCase(_ bytes: Slice<UnsafeRawBufferPointer>, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    return lowercase.withUTF8Buffer { expected in
        zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 || ($0 == $1) }
    }
}
