/// Why the bytes on a connection are not an HTTP/1.1 request sessiond will read. Every case ends
/// the connection: after a framing error nothing that follows can be trusted to start a request.
public struct HTTPParseError: Error, Hashable, Sendable {
    /// The kind of error; callers switch over it, never over `detail`.
    public enum Code: Hashable, Sendable {
        /// Not HTTP/1.x syntax, or framing that cannot be trusted (RFC 9112): 400.
        case malformed
        /// The head (request line, header lines and their line ends) is over the limit: 431.
        case headTooLarge
        /// The request line alone is over the head limit: 414.
        case targetTooLong
        /// A transfer coding other than `chunked`: 501 (RFC 9112 §6.1).
        case unsupportedTransferCoding
        /// An HTTP major version other than 1: 505.
        case unsupportedVersion
    }

    public let code: Code
    /// What was wrong, in words fit for a client; never the request's own bytes.
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
