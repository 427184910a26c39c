/// Finds nesting that is too deep without parsing, so that jansson never recurses on hostile
/// input. Brackets inside strings do not count.
enum JSONDepthScanner {
    /// The offset of the first `[` or `{` that opens level `limit + 1`, or nil when the text
    /// stays within `limit` levels. The text need not be valid JSON.
    static func firstOffsetDeeperThan(_ limit: Int, in bytes: UnsafeRawBufferPointer) -> Int? {
        var depth = 0
        var inString = false
        var escaped = false
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return offset }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            default:
                break
            }
        }
        return nil
    }
}
