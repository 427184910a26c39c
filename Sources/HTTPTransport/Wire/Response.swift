import NIOCore
import NIOHTTP1

/// One complete HTTP response: status, headers and body. The writer adds `Content-Length`,
/// `Date` and `Connection`; handlers never set those (nor `Content-Type` and `Cache-Control`
/// next to `json(_:_:headers:)`, which adds them).
public struct Response: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// The slug of the problem type when this is a problem response (for metrics), else nil.
    public var problemSlug: String?
    /// A body written over time instead of `body` (see `ResponseStream`), or nil.
    public var stream: (any ResponseStream)?

    public init(
        status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer(), problemSlug: String? = nil,
        stream: (any ResponseStream)? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.problemSlug = problemSlug
        self.stream = stream
    }

    /// A JSON response (`application/json; charset=utf-8`), never cached by intermediaries.
    public static func json(_ status: HTTPResponseStatus, _ bytes: [UInt8], headers: HTTPHeaders = [:]) -> Response {
        var all = headers
        all.add(name: "Content-Type", value: "application/json; charset=utf-8")
        all.add(name: "Cache-Control", value: "no-store")
        return Response(status: status, headers: all, body: ByteBuffer(bytes: bytes))
    }
}
