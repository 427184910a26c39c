internal import CJansson

extension JSONValue {
    /// This value as compact JSON (no white space), UTF-8 encoded.
    ///
    /// Object members keep their order. Numbers keep their value in the shortest form that reads
    /// back exactly: an integer as its digits, a real as the shortest decimal that round-trips
    /// (`0.1`, `1e-7`, `-0.0`, `100.0`), so a real stays a real. Strings are escaped minimally
    /// (`"`, `\` and control characters); other characters stay as UTF-8.
    public func compactJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONValue.writeCompact(node, into: &out)
        return out
    }

    static func writeCompact(_ node: UnsafeMutablePointer<json_t>, into out: inout [UInt8]) {
        switch cjansson_typeof(node) {
        case Int32(JSON_OBJECT.rawValue):
            out.append(UInt8(ascii: "{"))
            var first = true
            var iterator = json_object_iter(node)
            while let current = iterator {
                if let key = json_object_iter_key(current), let value = json_object_iter_value(current) {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    let length = json_object_iter_key_len(current)
                    JSONStringEscaper.append(UnsafeRawBufferPointer(start: key, count: length), to: &out)
                    out.append(UInt8(ascii: ":"))
                    writeCompact(value, into: &out)
                }
                iterator = json_object_iter_next(node, current)
            }
            out.append(UInt8(ascii: "}"))
        case Int32(JSON_ARRAY.rawValue):
            out.append(UInt8(ascii: "["))
            let count = json_array_size(node)
            for index in 0..<count {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                if let element = json_array_get(node, index) {
                    writeCompact(element, into: &out)
                }
            }
            out.append(UInt8(ascii: "]"))
        case Int32(JSON_STRING.rawValue):
            let length = json_string_length(node)
            JSONStringEscaper.append(UnsafeRawBufferPointer(start: json_string_value(node), count: length), to: &out)
        case Int32(JSON_INTEGER.rawValue):
            out.append(contentsOf: String(json_integer_value(node)).utf8)
        case Int32(JSON_REAL.rawValue):
            JSONNumberFormatter.appendShortest(json_real_value(node), to: &out)
        case Int32(JSON_TRUE.rawValue):
            out.append(contentsOf: "true".utf8)
        case Int32(JSON_FALSE.rawValue):
            out.append(contentsOf: "false".utf8)
        default:
            out.append(contentsOf: "null".utf8)
        }
    }
}
