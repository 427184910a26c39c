internal import CJansson

/// A parsed JSON text, held as a jansson tree.
///
/// Parsing is strict: invalid UTF-8, lone surrogates, duplicate keys, trailing bytes and numbers
/// that cannot be held exactly are errors; `\u0000` inside string values is accepted. The class
/// owns its jansson root and releases it in `deinit`; values handed out keep the document alive.
public final class JSONDocument: @unchecked Sendable {
    // @unchecked: the tree is never mutated after parsing, and jansson's reference count is only
    // touched in init and deinit, so concurrent reads are safe.
    let root: UnsafeMutablePointer<json_t>

    private init(root: UnsafeMutablePointer<json_t>) {
        self.root = root
    }

    deinit {
        cjansson_decref(root)
    }

    /// The top-level value.
    public var value: JSONValue { JSONValue(document: self, node: root) }

    /// Parses `bytes` as one JSON text of any kind (object, array or scalar).
    ///
    /// - Parameters:
    ///   - bytes: the whole text; nothing may follow the value but white space.
    ///   - maxDepth: the deepest nesting of arrays and objects allowed; the top-level array or
    ///     object is depth 1. Checked before jansson sees the text.
    /// - Throws: `JSONError` saying why the text was refused, with a position in its detail.
    public static func parse<Bytes: Collection>(_ bytes: Bytes, maxDepth: Int) throws(JSONError) -> JSONDocument
    where Bytes.Element == UInt8 {
        let parsed: Result<JSONDocument, JSONError>? = bytes.withContiguousStorageIfAvailable { buffer in
            parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
        }
        let result = parsed ?? Array(bytes).withUnsafeBytes { parse($0, maxDepth: maxDepth) }
        return try result.get()
    }

    private static func parse(_ buffer: UnsafeRawBufferPointer, maxDepth: Int) -> Result<JSONDocument, JSONError> {
        switch JSONPrescan.scan(buffer, maxDepth: maxDepth) {
        case let .tooDeep(offset)?:
            return .failure(.tooDeep.with(detail: "arrays and objects nest deeper than \(maxDepth) levels (at byte \(offset))"))
        case let .underflow(offset)?:
            return .failure(
                .numberOutOfRange.with(detail: "a number is too close to zero to be held exactly: it would read back as 0 (at byte \(offset))")
            )
        case let .nulByte(offset)?:
            return .failure(.syntax.with(detail: "the text is not valid JSON: a NUL byte outside a string (at byte \(offset))"))
        case nil:
            break
        }
        var error = json_error_t()
        let flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL
        let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self)
        // jansson wants a non-null pointer even for an empty text.
        let loaded: UnsafeMutablePointer<json_t>? = withUnsafePointer(to: CChar(0)) { empty in
            json_loadb(base ?? empty, buffer.count, Int(flags), &error)
        }
        guard let root = loaded else {
            return .failure(makeError(from: &error))
        }
        return .success(JSONDocument(root: root))
    }

    /// Turns jansson's error into a `JSONError` with our own words and the position only:
    /// jansson's text quotes bytes of the input, which must not reach a client or a log.
    private static func makeError(from error: inout json_error_t) -> JSONError {
        let position = "(line \(error.line), column \(error.column))"
        let reason: JSONError
        switch cjansson_error_code(&error) {
        case Int32(json_error_invalid_utf8.rawValue): reason = .invalidUTF8
        case Int32(json_error_duplicate_key.rawValue): reason = .duplicateKey
        case Int32(json_error_numeric_overflow.rawValue): reason = .numberOutOfRange
        case Int32(json_error_null_byte_in_key.rawValue): reason = .nulInKey
        case Int32(json_error_out_of_memory.rawValue): reason = .outOfMemory
        case Int32(json_error_stack_overflow.rawValue): reason = .tooDeep
        default: reason = .syntax
        }
        let what: String
        switch reason {
        case .invalidUTF8: what = "the text is not valid UTF-8"
        case .duplicateKey: what = "an object names the same key twice"
        case .numberOutOfRange: what = "a number cannot be held exactly"
        case .nulInKey: what = "an object key contains \\u0000"
        case .outOfMemory: what = "out of memory while parsing"
        case .tooDeep: what = "arrays and objects nest too deeply"
        default: what = "the text is not valid JSON (syntax, a lone surrogate escape, or bytes after the value)"
        }
        return reason.with(detail: "\(what) \(position)")
    }
}
