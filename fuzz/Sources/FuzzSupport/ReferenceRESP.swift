/// A second reading of a RESP2 byte stream, written from the protocol description and the rules
/// of hiredis 0.14's reader (the version Debian ships and Sessiond links), that FuzzRESP compares
/// `RESPParser` and `RESPReplyDecoder` against.
///
/// hiredis' rules, beyond the plain protocol: a line ends at the first CR LF (a lone CR or LF is
/// part of the line); integers and lengths are strict (`0`, or an optional `-` and digits without
/// a leading zero, within 64 bits; `-0` is refused); a bulk length below -1 and an array length
/// below -1 or above `Int32.max` are errors; the two bytes after a bulk string's payload are
/// skipped unchecked; an array nested 8 levels below the top is an error as soon as its type
/// byte is read; any other type byte (RESP3's `_ # , ( = % ~ > |` too) is an error.
public enum ReferenceRESP {
    /// A reply as `RESPValue` has it, kept separate so the reference does not share its type.
    public indirect enum Reply: Hashable, Sendable {
        case simpleString([UInt8])
        case error([UInt8])
        case integer(Int64)
        case bulkString([UInt8])
        case array([Reply])
        case null
    }

    /// The complete replies at the start of `bytes`, and whether the stream breaks the protocol
    /// after them (`false` when it merely ends inside a reply).
    public static func parse(_ bytes: [UInt8]) -> (replies: [Reply], broken: Bool) {
        var replies: [Reply] = []
        var position = 0
        var largest: Int64 = 0
        while position < bytes.count {
            switch item(bytes, &position, level: 0, largestArray: &largest) {
            case let .complete(reply): replies.append(reply)
            case .incomplete: return (replies, false)
            case .broken: return (replies, true)
            }
        }
        return (replies, false)
    }

    /// The largest array length the stream declares (read as `parse` reads it).
    public static func largestArrayLength(_ bytes: [UInt8]) -> Int64 {
        var position = 0
        var largest: Int64 = 0
        while position < bytes.count {
            guard case .complete = item(bytes, &position, level: 0, largestArray: &largest) else { break }
        }
        return largest
    }

    private enum Outcome {
        case complete(Reply)
        case incomplete
        case broken
    }

    private static func item(_ bytes: [UInt8], _ position: inout Int, level: Int, largestArray: inout Int64) -> Outcome {
        guard position < bytes.count else { return .incomplete }
        let type = bytes[position]
        position += 1
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
            guard let line = line(bytes, &position) else { return .incomplete }
            if type == UInt8(ascii: "+") { return .complete(.simpleString(line)) }
            if type == UInt8(ascii: "-") { return .complete(.error(line)) }
            guard let value = strictInteger(line) else { return .broken }
            return .complete(.integer(value))
        case UInt8(ascii: "$"):
            guard let line = line(bytes, &position) else { return .incomplete }
            guard let length = strictInteger(line), length >= -1 else { return .broken }
            if length == -1 { return .complete(.null) }
            // Payload and two more bytes (meant to be CR LF; not checked).
            guard UInt64(length) <= UInt64(bytes.count - position), Int(length) + 2 <= bytes.count - position else {
                return .incomplete
            }
            let payload = Array(bytes[position..<(position + Int(length))])
            position += Int(length) + 2
            return .complete(.bulkString(payload))
        case UInt8(ascii: "*"):
            if level == 8 { return .broken }
            guard let line = line(bytes, &position) else { return .incomplete }
            guard let count = strictInteger(line), count >= -1, count <= Int64(Int32.max) else { return .broken }
            if count == -1 { return .complete(.null) }
            largestArray = max(largestArray, count)
            var elements: [Reply] = []
            for _ in 0..<count {
                switch item(bytes, &position, level: level + 1, largestArray: &largestArray) {
                case let .complete(element): elements.append(element)
                case .incomplete: return .incomplete
                case .broken: return .broken
                }
            }
            return .complete(.array(elements))
        default:
            return .broken
        }
    }

    /// The bytes up to the first CR LF, moving past it; nil when there is none yet.
    private static func line(_ bytes: [UInt8], _ position: inout Int) -> [UInt8]? {
        var index = position
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A {
                let line = Array(bytes[position..<index])
                position = index + 2
                return line
            }
            index += 1
        }
        return nil
    }

    /// `0`, or an optional `-` then a digit 1-9 and more digits, within Int64.
    static func strictInteger(_ line: [UInt8]) -> Int64? {
        if line == [UInt8(ascii: "0")] { return 0 }
        var digits = line[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard let first = digits.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"),
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        var magnitude: UInt64 = 0
        for digit in digits {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
