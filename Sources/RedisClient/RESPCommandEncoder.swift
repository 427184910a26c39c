import NIOCore

/// Writes commands as RESP arrays of bulk strings, the form every Redis command takes; the
/// same bytes `redisFormatCommandArgv` produces, written straight into the outgoing buffer.
public struct RESPCommandEncoder: MessageToByteEncoder {
    public typealias OutboundIn = RedisCommand

    public init() {}

    public func encode(data command: RedisCommand, out: inout ByteBuffer) {
        Self.write(command, into: &out)
    }

    /// Appends `*N\r\n` and `$len\r\n<bytes>\r\n` for each argument.
    public static func write(_ command: RedisCommand, into out: inout ByteBuffer) {
        out.writeStaticString("*")
        out.writeString(String(command.arguments.count))
        out.writeStaticString("\r\n")
        for argument in command.arguments {
            out.writeStaticString("$")
            out.writeString(String(argument.readableBytes))
            out.writeStaticString("\r\n")
            out.writeImmutableBuffer(argument)
            out.writeStaticString("\r\n")
        }
    }
}
