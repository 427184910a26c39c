import NIOCore

/// One Redis reply (RESP2), as Swift values; no C pointer survives the decoder.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR …`: the server refused the command.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello`
    case bulkString([UInt8])
    /// `*2\r\n…`
    case array([RESPValue])
    /// `$-1` or `*-1`
    case null

    /// The bytes of a bulk or simple string, else nil.
    public var bytes: [UInt8]? {
        switch self {
        case let .bulkString(bytes): return bytes
        case let .simpleString(text): return Array(text.utf8)
        default: return nil
        }
    }

    /// The text of a bulk or simple string, else nil.
    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The integer of an integer reply, or of a string that spells one.
    public var int: Int64? {
        switch self {
        case let .integer(value): return value
        case .bulkString, .simpleString: return string.flatMap { Int64($0) }
        default: return nil
        }
    }
}
