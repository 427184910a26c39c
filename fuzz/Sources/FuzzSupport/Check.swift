/// Stops the run when a property does not hold: libFuzzer reports the deadly signal, prints the
/// message above it, and saves the input as a crash file.
public func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() {
        fatalError("fuzz property violated: \(message())", file: file, line: line)
    }
}

/// Bytes as a readable literal for messages: printable ASCII as is, the rest as `\xHH`.
public func show<Bytes: Sequence>(_ bytes: Bytes, limit: Int = 400) -> String where Bytes.Element == UInt8 {
    var text = ""
    var count = 0
    for byte in bytes {
        count += 1
        if count > limit {
            text += "…"
            break
        }
        switch byte {
        case 0x5C: text += "\\\\"
        case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789abcdef".unicodeScalars)
            text += "\\x"
            text.unicodeScalars.append(hex[Int(byte >> 4)])
            text.unicodeScalars.append(hex[Int(byte & 0x0F)])
        }
    }
    return "\"" + text + "\""
}

/// Deterministic chunk sizes for feeding a stream in pieces: a small xorshift generator seeded
/// from one input byte, so that the same input always splits the same way.
public struct ChunkSizes: IteratorProtocol {
    private var state: UInt32
    private let largest: Int

    /// - Parameter seed: 0 feeds one byte at a time; otherwise chunks of 1 up to
    ///   `seed % 32 + 1` bytes, in a pseudo-random order.
    public init(seed: UInt8) {
        state = UInt32(seed) &* 2_654_435_761 | 1
        largest = seed == 0 ? 1 : Int(seed % 32) + 1
    }

    public mutating func next() -> Int? {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return Int(state % UInt32(largest)) + 1
    }
}

/// `bytes` cut into consecutive chunks whose sizes come from `sizes`.
public func chunks(_ bytes: ArraySlice<UInt8>, sizes: inout ChunkSizes) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    while start < bytes.endIndex {
        let end = min(bytes.endIndex, start + (sizes.next() ?? 1))
        result.append(bytes[start..<end])
        start = end
    }
    return result
}
