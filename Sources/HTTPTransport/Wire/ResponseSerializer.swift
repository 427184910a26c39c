import NIOCore
import NIOHTTP1

/// Writes responses as HTTP/1.1 bytes, head and body into one buffer. sessiond answers every
/// request as HTTP/1.1 (RFC 9112 §2.3: the highest minor version it speaks of the request's
/// major version), whatever minor version the request had.
enum ResponseSerializer {
    /// The head (status line, the response's headers, then `X-Request-Id`, `Content-Length`,
    /// `Date` and `Connection`, which only the transport sets) and, unless `omitBody` (a HEAD
    /// request), the body.
    ///
    /// - Parameter connection: the `Connection` header's value, or nil for none.
    /// - Parameter streamed: the body follows later (`Response.stream`): `.chunked` writes
    ///   `Transfer-Encoding: chunked`, `.untilClose` no length at all; nil writes
    ///   `Content-Length` and the body.
    static func serialize(
        _ response: Response, requestID: String, date: String, connection: StaticString?, omitBody: Bool,
        streamed: StreamFraming? = nil, into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString("HTTP/1.1 ")
        writeStatus(response.status, into: &buffer)
        for (name, value) in response.headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("X-Request-Id: ")
        buffer.writeString(requestID)
        switch streamed {
        case nil:
            buffer.writeStaticString("\r\nContent-Length: ")
            buffer.writeString(String(response.body.readableBytes))
        case .chunked:
            buffer.writeStaticString("\r\nTransfer-Encoding: chunked")
        case .untilClose:
            break
        }
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(date)
        if let connection {
            buffer.writeStaticString("\r\nConnection: ")
            buffer.writeStaticString(connection)
        }
        buffer.writeStaticString("\r\n\r\n")
        if !omitBody, streamed == nil {
            buffer.writeImmutableBuffer(response.body)
        }
    }

    /// How a streamed body is delimited.
    enum StreamFraming {
        /// HTTP/1.1: chunks, ended by the last chunk.
        case chunked
        /// HTTP/1.0: the body ends when the connection closes.
        case untilClose
    }

    /// `100 Continue`, the interim answer a client that sent `Expect: 100-continue` waits for.
    static let continueResponse: StaticString = "HTTP/1.1 100 Continue\r\n\r\n"

    private static func writeStatus(_ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
    }
}
