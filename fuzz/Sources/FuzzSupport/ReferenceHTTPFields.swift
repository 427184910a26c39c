/// Byte-level readings of the `If-Match` header (RFC 9110 §13.1.1, §5.6.1 lists, §8.8.3 entity
/// tags) and of a query string (`application/x-www-form-urlencoded`: split at `&` and the first
/// `=`, `+` is a space, `%XX` a byte, the result UTF-8), for FuzzIfMatch and FuzzQuery.
/// They work on the UTF-8 bytes, as the grammars are defined, never on Swift `Character`s.
public enum ReferenceHTTPFields {
    public enum IfMatchResult: Hashable, Sendable {
        case always
        case versions(Set<UInt64>)
        case invalid
    }

    /// `lines` are the `If-Match` field lines in order (no field when empty).
    public static func ifMatch(_ lines: [[UInt8]]) -> IfMatchResult {
        guard !lines.isEmpty else { return .always }
        let value = Array(lines.joined(separator: [UInt8(ascii: ",")]))
        if trimmed(value[...]).elementsEqual([UInt8(ascii: "*")]) { return .always }
        var versions = Set<UInt64>()
        var tags = 0
        for element in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var tag = trimmed(element)
            if tag.isEmpty { continue }  // empty list elements are allowed
            var weak = false
            if tag.starts(with: Array("W/".utf8)) {
                weak = true
                tag = tag.dropFirst(2)
            }
            guard tag.count >= 2, tag.first == 0x22, tag.last == 0x22 else { return .invalid }
            let opaque = tag.dropFirst().dropLast()
            // etagc = %x21 / %x23-7E (obs-text refused)
            guard opaque.allSatisfy({ $0 == 0x21 || ($0 >= 0x23 && $0 <= 0x7E) }) else { return .invalid }
            tags += 1
            if !weak, let version = canonicalDecimal(opaque) { versions.insert(version) }
        }
        return tags > 0 ? .versions(versions) : .invalid
    }

    /// Without leading and trailing SP and HTAB (OWS).
    public static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    /// `0` or a decimal without a leading zero that fits 64 bits unsigned.
    public static func canonicalDecimal(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard let first = bytes.first, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if first == 0x30 { return bytes.count == 1 ? 0 : nil }
        var value: UInt64 = 0
        for byte in bytes {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    public enum QueryFailure: Error, Hashable, Sendable {
        case malformed, notAllowed, repeated
    }

    /// The parameters of `query` (the bytes after `?`), checked against `allowed`; values and
    /// names as UTF-8 bytes.
    public static func query(_ query: [UInt8], allowed: Set<String>) -> Result<[String: [UInt8]], QueryFailure> {
        var values: [String: [UInt8]] = [:]
        for pair in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = pair[..<(equals ?? pair.endIndex)]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? []
            guard let name = formDecode(rawName), let value = formDecode(rawValue) else { return .failure(.malformed) }
            let nameText = String(decoding: name, as: UTF8.self)
            // Names are compared as bytes: a name matches only when it is exactly an allowed one.
            guard allowed.contains(where: { Array($0.utf8) == name }) else { return .failure(.notAllowed) }
            guard values[nameText] == nil else { return .failure(.repeated) }
            values[nameText] = value
        }
        return .success(values)
    }

    /// `+` as a space, `%XX` as a byte; nil for a bad escape or bytes that are not UTF-8.
    public static func formDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
                index += 1
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex,
                      let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        guard String(validating: out, as: UTF8.self) != nil else { return nil }
        return out
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// `bytes` with everything but RFC 3986 unreserved characters percent-encoded.
    public static func percentEncode(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return out
    }
}
