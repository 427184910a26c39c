internal import CJansson

/// One value inside a `JSONDocument`. Keeps its document alive; never outlives the tree.
public struct JSONValue: @unchecked Sendable {
    // @unchecked: see JSONDocument; the tree is read-only once parsed.
    let document: JSONDocument
    let node: UnsafeMutablePointer<json_t>

    init(document: JSONDocument, node: UnsafeMutablePointer<json_t>) {
        self.document = document
        self.node = node
    }

    /// What kind of value this is.
    public var kind: JSONKind {
        switch cjansson_typeof(node) {
        case Int32(JSON_OBJECT.rawValue): return .object
        case Int32(JSON_ARRAY.rawValue): return .array
        case Int32(JSON_STRING.rawValue): return .string
        case Int32(JSON_INTEGER.rawValue): return .integer
        case Int32(JSON_REAL.rawValue): return .real
        case Int32(JSON_TRUE.rawValue), Int32(JSON_FALSE.rawValue): return .bool
        default: return .null
        }
    }

    /// The boolean, or nil when this is not `true` or `false`.
    public var boolValue: Bool? {
        switch cjansson_typeof(node) {
        case Int32(JSON_TRUE.rawValue): return true
        case Int32(JSON_FALSE.rawValue): return false
        default: return nil
        }
    }

    /// The integer, or nil when this is not a number written without fraction or exponent
    /// (`300`, not `300.0` or `3e2`).
    public var integerValue: Int64? {
        guard kind == .integer else { return nil }
        return Int64(json_integer_value(node))
    }

    /// The double of a number written with a fraction or exponent, or nil for anything else.
    public var realValue: Double? {
        guard kind == .real else { return nil }
        return json_real_value(node)
    }

    /// The string (which may contain U+0000), or nil when this is not a string.
    public var stringValue: String? {
        guard kind == .string, let chars = json_string_value(node) else { return nil }
        let length = json_string_length(node)
        return String(decoding: UnsafeRawBufferPointer(start: chars, count: length), as: UTF8.self)
    }

    /// The member names of an object in document order; empty for anything else.
    public var keys: [String] {
        var names: [String] = []
        forEachMember { key, _ in names.append(key) }
        return names
    }

    /// The member named `key` of an object, or nil when absent or when this is not an object.
    public func member(_ key: String) -> JSONValue? {
        guard kind == .object, let child = json_object_get(node, key) else { return nil }
        return JSONValue(document: document, node: child)
    }

    /// Calls `body` with each member of an object in document order (nothing for other kinds).
    func forEachMember(_ body: (String, UnsafeMutablePointer<json_t>) -> Void) {
        guard kind == .object else { return }
        var iterator = json_object_iter(node)
        while let current = iterator {
            if let key = json_object_iter_key(current), let value = json_object_iter_value(current) {
                let length = json_object_iter_key_len(current)
                let name = String(decoding: UnsafeRawBufferPointer(start: key, count: length), as: UTF8.self)
                body(name, value)
            }
            iterator = json_object_iter_next(node, current)
        }
    }
}
