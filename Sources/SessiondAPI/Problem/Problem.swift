import HTTPTransport
import JSONDocument
import NIOCore
import NIOHTTP1

/// An RFC 9457 problem: the body of every error response (`application/problem+json`).
///
/// `type` is a stable URI per kind of problem (see `ProblemType`), `title` its summary, and
/// `detail` what went wrong with this request, never C error text or session data.
public struct Problem: Error, Sendable {
    public var type: ProblemType
    public var detail: String
    /// Extra response headers (`Allow` for 405, `Retry-After` for 503, `ETag` for 412).
    public var headers: HTTPHeaders
    /// The session's version now, for 412 (`current_version`); nil elsewhere.
    public var currentVersion: UInt64?

    public init(_ type: ProblemType, detail: String, headers: HTTPHeaders = [:], currentVersion: UInt64? = nil) {
        self.type = type
        self.detail = detail
        self.headers = headers
        self.currentVersion = currentVersion
    }

    /// The problem as a response.
    public var response: Response {
        var body: [UInt8] = []
        body.reserveCapacity(160 + detail.utf8.count)
        body.append(contentsOf: #"{"type":"#.utf8)
        JSONStringEscaper.append(type.uri, to: &body)
        body.append(contentsOf: #","title":"#.utf8)
        JSONStringEscaper.append(type.title, to: &body)
        body.append(contentsOf: #","status":"#.utf8)
        body.append(contentsOf: String(type.status.code).utf8)
        body.append(contentsOf: #","detail":"#.utf8)
        JSONStringEscaper.append(detail, to: &body)
        if let currentVersion {
            body.append(contentsOf: #","current_version":"#.utf8)
            body.append(contentsOf: String(currentVersion).utf8)
        }
        body.append(UInt8(ascii: "}"))
        var all = headers
        all.add(name: "Content-Type", value: "application/problem+json")
        all.add(name: "Cache-Control", value: "no-store")
        return Response(status: type.status, headers: all, body: ByteBuffer(bytes: body), problemSlug: type.slug)
    }
}
