import NIOCore
import NIOHTTP1

/// One complete HTTP request as the handlers see it: head and whole body.
public struct Request: Sendable {
    public var method: HTTPMethod
    /// The path without query, as sent (not percent-decoded).
    public var path: Substring
    /// The query string without `?`, or nil when there is none.
    public var query: Substring?
    public var headers: HTTPHeaders
    /// The body; an empty buffer when the request had none.
    public var body: ByteBuffer

    /// - Parameter uri: the request target in origin form (`/path?query`) or absolute form
    ///   (`http://host/path?query`, RFC 9112 §3.2.2), whose scheme and authority are dropped.
    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        var target = Substring(uri)
        if target.utf8.first != UInt8(ascii: "/") {
            for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
                let authorityAndPath = target.dropFirst(scheme.count)
                target = authorityAndPath.firstIndex(of: "/").map { authorityAndPath[$0...] } ?? "/"
            }
        }
        // By bytes: `?` is ASCII, so its index is a Character boundary too.
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = target[..<mark]
            self.query = target[target.utf8.index(after: mark)...]
        } else {
            self.path = target
            self.query = nil
        }
        self.headers = headers
        self.body = body
    }
}
