internal import CJansson

/// RFC 7396 JSON merge patch on compact JSON text.
public enum JSONMergePatch {
    /// `patch` merged into `target`, as compact JSON (see `JSONValue.compactJSON()`).
    ///
    /// - Parameters:
    ///   - patch: a JSON text; when it is an object, its members are merged in (a `null` member
    ///     removes the name, an object member merges recursively, anything else replaces);
    ///     otherwise it replaces `target` whole.
    ///   - target: a JSON text; when it is not an object and `patch` is, it is taken as `{}`.
    /// - Returns: the merged value. Existing members keep their place, new ones come last. Both
    ///   texts must be valid JSON (both are validated before they are stored): an invalid patch
    ///   is returned as it is (it replaces the target, as any patch that is not an object does),
    ///   an invalid target is taken as `{}`.
    public static func apply(_ patch: [UInt8], to target: [UInt8]) -> [UInt8] {
        let patchRoot = load(patch)
        defer { if let patchRoot { cjansson_decref(patchRoot) } }
        guard let patchRoot, cjansson_typeof(patchRoot) == Int32(JSON_OBJECT.rawValue) else {
            return patch
        }
        var root = load(target)
        if let loaded = root, cjansson_typeof(loaded) != Int32(JSON_OBJECT.rawValue) {
            cjansson_decref(loaded)
            root = nil
        }
        guard let result = root ?? json_object() else { return target }
        defer { cjansson_decref(result) }
        merge(patchRoot, into: result)
        var out: [UInt8] = []
        out.reserveCapacity(target.count + patch.count)
        JSONValue.writeCompact(result, into: &out)
        return out
    }

    /// Parses `text` with the strict flags; the caller owns (decrefs) the result.
    private static func load(_ text: [UInt8]) -> UnsafeMutablePointer<json_t>? {
        var error = json_error_t()
        let flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL
        return text.withUnsafeBytes { bytes -> UnsafeMutablePointer<json_t>? in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return nil }
            return json_loadb(base, bytes.count, Int(flags), &error)
        }
    }

    /// Merges the members of the object `patch` into the object `target`, in place.
    private static func merge(_ patch: UnsafeMutablePointer<json_t>, into target: UnsafeMutablePointer<json_t>) {
        var iterator = json_object_iter(patch)
        while let current = iterator {
            defer { iterator = json_object_iter_next(patch, current) }
            guard let key = json_object_iter_key(current), let value = json_object_iter_value(current) else { continue }
            let length = json_object_iter_key_len(current)
            switch cjansson_typeof(value) {
            case Int32(JSON_NULL.rawValue):
                json_object_deln(target, key, length)
            case Int32(JSON_OBJECT.rawValue):
                if let existing = json_object_getn(target, key, length), cjansson_typeof(existing) == Int32(JSON_OBJECT.rawValue) {
                    merge(value, into: existing)
                } else if let fresh = json_object() {
                    merge(value, into: fresh)
                    json_object_setn_new(target, key, length, fresh)
                }
            default:
                json_object_setn_new(target, key, length, cjansson_incref(value))
            }
        }
    }
}
