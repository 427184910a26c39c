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

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        if let mark = uri.firstIndex(of: "?") {
            self.path = uri[..<mark]
            self.query = uri[uri.index(after: mark)...]
        } else {
            self.path = Substring(uri)
            self.query = nil
        }
        self.headers = headers
        self.body = body
    }
}
