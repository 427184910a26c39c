import NIOCore

/// Turns the bytes of a Redis connection into `RESPValue`s with a `RESPParser`.
public final class RESPReplyDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPValue

    private let parser: RESPParser

    public init() throws(RedisClientError) {
        parser = try RESPParser()
    }

    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try buffer.withUnsafeReadableBytes { bytes throws(RedisClientError) in try parser.feed(bytes) }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        while let reply = try parser.next() {
            context.fireChannelRead(wrapInboundOut(reply))
        }
        return .needMoreData
    }

    public func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
