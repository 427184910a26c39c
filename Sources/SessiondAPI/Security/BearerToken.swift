import NIOHTTP1

/// The credentials of a request: `Authorization: Bearer <key>` (RFC 6750 §2.1).
enum BearerToken {
    /// The key of a single `Authorization: Bearer` header (scheme in any case), or nil when the
    /// header is missing, repeated, of another scheme or empty.
    static func key(in headers: HTTPHeaders) -> Substring? {
        let values = headers["Authorization"]
        guard values.count == 1, let value = values.first else { return nil }
        let text = Substring(value)
        guard text.count > 7, text.prefix(7).lowercased() == "bearer " else { return nil }
        let key = text.dropFirst(7).drop { $0 == " " }
        return key.isEmpty ? nil : key
    }
}
