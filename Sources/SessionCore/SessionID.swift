/// A session id: a random (version 4) UUID, written in lowercase canonical form
/// (`1b4e28ba-2fa1-41d2-883f-0016d3cca427`).
///
/// Only the service makes them, from the system's cryptographically secure generator; clients
/// only hand them back, so parsing accepts the canonical lowercase form and nothing else.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// The 128 bits, most significant half first.
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A new version 4 UUID from `SystemRandomNumberGenerator` (getrandom(2) on Linux).
    public static func random() -> SessionID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A new version 4 UUID from `generator`; tests pass a seeded one, the service never does.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SessionID {
        let high = (generator.next() & ~0xF000) | 0x4000  // version 4
        let low = (generator.next() & ~(0xC << 60)) | (0x8 << 60)  // RFC 9562 variant 10xx
        return SessionID(high: high, low: low)
    }

    /// Whether this is a version 4 UUID of the RFC 9562 variant, as `random()` makes them: what
    /// an id minted by an app must be (`PUT` with `If-None-Match: *`).
    public var isRandomVersion4: Bool {
        high & 0xF000 == 0x4000 && low >> 62 == 0b10
    }

    /// Parses the canonical lowercase form; nil for anything else (uppercase, braces, no hyphens,
    /// other lengths). Any UUID version is accepted here: a well-formed id that the service never
    /// issued is simply not found.
    public init?<S: StringProtocol>(_ text: S) {
        // Not generic below: a generic walk of a string view across modules is slow.
        var text = String(text)
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses a path segment (the router's hot path), without copying it.
    public init?(_ text: Substring) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> SessionID? {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        var count = 0
        for byte in text {
            defer { count += 1 }
            if count == 8 || count == 13 || count == 18 || count == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if nibbles < 16 {
                high = high << 4 | UInt64(value)
            } else if nibbles < 32 {
                low = low << 4 | UInt64(value)
            } else {
                return nil
            }
            nibbles += 1
        }
        guard count == 36, nibbles == 32 else { return nil }
        return SessionID(high: high, low: low)
    }

    /// The canonical lowercase form.
    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        for index in 0..<32 {
            if index == 8 || index == 12 || index == 16 || index == 20 { bytes.append(UInt8(ascii: "-")) }
            let word = index < 16 ? high : low
            let shift = UInt64(60 - 4 * (index % 16))
            bytes.append(hex[Int((word >> shift) & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
