#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One pass over a JSON text before jansson sees it, for what jansson would not refuse:
/// nesting too deep (jansson would recurse on hostile input), numbers so small that they
/// become 0 (jansson's `strtod` rounds `1e-400` to 0.0 without a word, and the client would
/// read back another value than it wrote), and NUL bytes outside strings (jansson can lose one).
/// Brackets, digits and NUL bytes inside strings do not count (jansson refuses a raw NUL there).
enum JSONPrescan {
    /// What the scan found first.
    enum Finding: Equatable {
        /// The `[` or `{` at this offset opens level `limit + 1`.
        case tooDeep(offset: Int)
        /// The number starting at this offset is not zero but is nearer to zero than the
        /// smallest double.
        case underflow(offset: Int)
        /// A NUL byte outside a string: never JSON, but jansson 2.14 drops one it read ahead
        /// after a number or a word (`[1\0]` loads as `[1]`), so it is refused here.
        case nulByte(offset: Int)
    }

    /// The first finding in `bytes`, or nil. The text need not be valid JSON.
    static func scan(_ bytes: UnsafeRawBufferPointer, maxDepth limit: Int) -> Finding? {
        var depth = 0
        var inString = false
        var escaped = false
        var offset = 0
        let count = bytes.count
        while offset < count {
            let byte = bytes[offset]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                offset += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return .tooDeep(offset: offset) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case 0:
                return .nulByte(offset: offset)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let end = numberEnd(bytes, from: offset)
                if underflows(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { return .underflow(offset: offset) }
                offset = end
                continue
            default:
                break
            }
            offset += 1
        }
        return nil
    }

    /// The offset just past the number-like run of bytes that starts at `start`.
    private static func numberEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start + 1
        while end < bytes.count {
            switch bytes[end] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"),
                UInt8(ascii: "-"):
                end += 1
            default:
                return end
            }
        }
        return end
    }

    /// Whether `literal` (a JSON number, or junk that jansson will refuse anyway) has a digit
    /// other than 0 before its exponent and still reads as 0.0.
    private static func underflows(_ literal: UnsafeRawBufferPointer) -> Bool {
        // The decimal magnitude of the first significant digit, plus the exponent: the value is
        // about 10^(magnitude + exponent). Only below 10^-300 can a double round to zero.
        var firstSignificant: (inFraction: Bool, position: Int)?
        var integerDigits = 0
        var fractionDigits = 0
        var inFraction = false
        var index = literal.first == UInt8(ascii: "-") ? 1 : 0
        while index < literal.count {
            let byte = literal[index]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if firstSignificant == nil && byte != UInt8(ascii: "0") {
                    firstSignificant = inFraction ? (true, fractionDigits + 1) : (false, integerDigits)
                }
                if inFraction { fractionDigits += 1 } else { integerDigits += 1 }
            } else {
                break
            }
            index += 1
        }
        guard let first = firstSignificant else { return false }  // all zeros: 0 is exact
        let magnitude = first.inFraction ? -first.position : integerDigits - 1 - first.position
        var exponent = 0
        if index < literal.count, literal[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var negative = false
            if index < literal.count, literal[index] == UInt8(ascii: "-") || literal[index] == UInt8(ascii: "+") {
                negative = literal[index] == UInt8(ascii: "-")
                index += 1
            }
            while index < literal.count, literal[index] >= UInt8(ascii: "0"), literal[index] <= UInt8(ascii: "9") {
                exponent = min(exponent * 10 + Int(literal[index] - UInt8(ascii: "0")), 1_000_000)
                index += 1
            }
            if negative { exponent = -exponent }
        }
        let approximate = magnitude + exponent
        if approximate >= -300 { return false }
        if approximate < -330 { return true }
        // Near the edge of the subnormals: let the C library decide, as jansson will.
        var text = literal.map { CChar(bitPattern: $0) }
        text.append(0)
        return strtod(text, nil) == 0
    }
}
