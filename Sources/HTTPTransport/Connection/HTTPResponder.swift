import NIOCore
import NIOHTTP1

/// What the transport asks of the layer that answers requests (the API): an answer for each
/// complete request, an answer for each request the transport refuses itself, and a record of
/// every exchange for metrics and the access log.
///
/// The connection handler is generic over its responder, so none of these calls goes through
/// an existential on the hot path.
package protocol HTTPResponder: Sendable {
    /// What the responder keeps of a request until it is answered, for `answered` (the API's
    /// route, say).
    associatedtype Tag: Sendable

    /// Largest body accepted, in bytes; a larger one is refused with `.bodyTooLarge`.
    var maxBodyBytes: Int { get }

    /// Largest request head accepted, in bytes (request line, header lines, line ends).
    var maxHeadBytes: Int { get }

    /// Starts answering `request` on `eventLoop`, the connection's own.
    ///
    /// - Returns: the tag for `answered`, and the response. The future must not fail: every
    ///   failure is an answer (a problem) already.
    func respond(to request: Request, on eventLoop: any EventLoop) -> (Tag, EventLoopFuture<Response>)

    /// The tag of a request that is refused before it reaches `respond`, from its head.
    func tag(method: HTTPMethod, target: String) -> Tag

    /// The answer to a request the transport refuses itself.
    func refusal(_ refusal: HTTPRefusal) -> Response

    /// Called once for each answer written, with the tag of its request (nil when no request
    /// head was read), the request's method (nil likewise), and the time from the request's
    /// first byte to its answer.
    func answered(_ response: Response, tag: Tag?, method: HTTPMethod?, requestID: String, duration: TimeAmount)
}

/// Why the transport answers a request without asking the responder.
package enum HTTPRefusal: Sendable {
    /// The bytes are not a request the parser reads (the connection closes).
    case unreadable(HTTPParseError)
    /// An HTTP/1.1 request without a Host header, or with several (RFC 9112 §3.2).
    case hostMissing
    case hostRepeated
    /// `CONNECT`: sessiond is not a proxy.
    case connect
    /// The body is over `maxBodyBytes` (the connection closes).
    case bodyTooLarge(limit: Int)
    /// The request did not arrive whole within the request timeout (the connection closes);
    /// `headArrived` says whether its head had.
    case timeout(seconds: Int64, headArrived: Bool)
}
