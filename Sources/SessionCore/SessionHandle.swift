import Crypto

/// The public name of a session: the first 128 bits of SHA-256 over a fixed label and the sid,
/// written as 32 lowercase hex digits (`9f86d081884c7d659a2feaa0c55ad015`).
///
/// A handle can be listed and logged, because it cannot be turned back into the sid: the sid is
/// 122 random bits, and SHA-256 is one-way. The stores key sessions by handle, so the sid itself
/// is never at rest: a Redis dump or `SCAN` shows handles only.
public struct SessionHandle: Hashable, Sendable, CustomStringConvertible {
    /// The 128 bits, most significant half first.
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The handle of `id`: SHA-256 of `sessiond-handle-v1:` and the canonical sid, truncated.
    public init(_ id: SessionID) {
        var hasher = SHA256()
        hasher.update(data: Self.label)
        hasher.update(data: Array(id.description.utf8))
        let digest = hasher.finalize()
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in digest.prefix(16).enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    private static let label = Array("sessiond-handle-v1:".utf8)

    /// Parses 32 lowercase hex digits; nil for anything else.
    public init?<S: StringProtocol>(_ text: S) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if count < 16 {
                high = high << 4 | UInt64(value)
            } else if count < 32 {
                low = low << 4 | UInt64(value)
            } else {
                return nil
            }
            count += 1
        }
        guard count == 32 else { return nil }
        self.init(high: high, low: low)
    }

    /// 32 lowercase hex digits.
    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in 0..<32 {
            let word = index < 16 ? high : low
            let shift = UInt64(60 - 4 * (index % 16))
            bytes.append(hex[Int((word >> shift) & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
