import NIOHTTP1

/// The id that ties a request to its log line: the client's `X-Request-Id` when it sent a
/// usable one, else a new random one. Returned in the response's `X-Request-Id`.
enum RequestID {
    /// The most characters taken from a client's `X-Request-Id`.
    static let maxLength = 128

    /// The request's `X-Request-Id` when it is 1 to 128 visible ASCII characters (no space),
    /// else 16 random bytes as 32 hex digits.
    static func of(_ headers: HTTPHeaders) -> String {
        if let given = headers["X-Request-Id"].first, (1...maxLength).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        return random()
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<2 {
            let word = generator.next() as UInt64
            for shift in stride(from: 60, through: 0, by: -4) { bytes.append(hex[Int((word >> UInt64(shift)) & 0xF)]) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
