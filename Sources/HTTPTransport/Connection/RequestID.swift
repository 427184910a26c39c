import NIOHTTP1

/// The ids that tie a connection's requests to their log lines: the client's `X-Request-Id`
/// when it sent a usable one, else a new one. Returned in the response's `X-Request-Id`.
///
/// A new id is 32 hex digits: 64 random bits drawn once per connection, then a counter, so
/// that no request pays for a call to the system's random generator.
struct RequestIDs {
    /// The most characters taken from a client's `X-Request-Id`.
    static let maxLength = 128

    private let prefix: UInt64
    private var counter: UInt64 = 0

    init() {
        var generator = SystemRandomNumberGenerator()
        prefix = generator.next()
    }

    /// The request's `X-Request-Id` when it is 1 to 128 visible ASCII characters (no space),
    /// else a new id.
    mutating func id(for headers: HTTPHeaders) -> String {
        if let given = headers.first(name: "X-Request-Id"), (1...Self.maxLength).contains(given.utf8.count),
           given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return given
        }
        return next()
    }

    /// A new id.
    mutating func next() -> String {
        counter &+= 1
        let prefix = self.prefix
        let counter = self.counter
        return String(unsafeUninitializedCapacity: 32) { buffer in
            let hex: StaticString = "0123456789abcdef"
            hex.withUTF8Buffer { digits in
                for index in 0..<16 {
                    let shift = UInt64(60 - 4 * index)
                    buffer[index] = digits[Int((prefix >> shift) & 0xF)]
                    buffer[16 + index] = digits[Int((counter >> shift) & 0xF)]
                }
            }
            return 32
        }
    }
}
