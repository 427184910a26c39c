import NIOCore

/// One Redis command: its arguments as binary-safe byte strings (`["SET", "k", "v"]`).
public struct RedisCommand: Sendable {
    public var arguments: [ByteBuffer]

    public init(_ arguments: [ByteBuffer]) {
        self.arguments = arguments
    }

    /// A command from text arguments.
    public init(_ name: String, _ arguments: String...) {
        self.arguments = ([name] + arguments).map { ByteBuffer(string: $0) }
    }

    /// The command's name, for logs and errors (never its arguments, which may hold data).
    public var name: String {
        arguments.first.map { String(buffer: $0) } ?? ""
    }
}
