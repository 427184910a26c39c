import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import RedisClient
import Testing

@Suite("Pipelining, timeouts and drops on one connection, without a socket")
struct RedisConnectionHandlerTests {
    /// The code of the `RedisClientError` that `body` throws, or nil when it throws none.
    private static func code(of body: () throws -> Any) -> RedisClientError.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? RedisClientError)?.code
        }
    }

    private func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(RESPCommandEncoder()))
        try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    /// Sends `command`, to be answered within `timeout` from now on the channel's clock.
    private func send(_ channel: EmbeddedChannel, _ command: RedisCommand, timeout: TimeAmount = .seconds(1)) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.write(RedisRequest(command, deadline: channel.eventLoop.now + timeout, promise: promise), promise: nil)
        return promise.futureResult
    }

    private func outbound(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func manyCommandsInFlightAreAnsweredInOrder() throws {
        let channel = try makeChannel()
        let futures = (0..<100).map { send(channel, RedisCommand("GET", "k\($0)")) }
        channel.embeddedEventLoop.run()  // the batched flush
        #expect(try outbound(channel).components(separatedBy: "GET").count == 101)
        var replies = ""
        for index in 0..<100 { replies += "$\(String(index).count)\r\n\(index)\r\n" }
        try channel.writeInbound(ByteBuffer(string: replies))
        for (index, future) in futures.enumerated() {
            #expect(try future.wait() == .bulkString(Array(String(index).utf8)))
        }
        _ = try channel.finish()
    }

    @Test func errorRepliesFailOnlyTheirCommand() throws {
        let channel = try makeChannel()
        let first = send(channel, RedisCommand("INCR", "x"))
        let second = send(channel, RedisCommand("PING"))
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "-WRONGTYPE not a number\r\n+PONG\r\n"))
        #expect(Self.code(of: { try first.wait() }) == .serverError)
        #expect(try second.wait() == .simpleString("PONG"))
        _ = try channel.finish()
    }

    @Test func askingGoesRightBeforeItsCommandAndItsReplyIsNotTheCommands() throws {
        let channel = try makeChannel()
        let before = send(channel, RedisCommand("GET", "a"))
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.write(RedisRequest(RedisCommand("GET", "b"), deadline: channel.eventLoop.now + .seconds(1), promise: promise, asking: true), promise: nil)
        let after = send(channel, RedisCommand("GET", "c"))
        channel.embeddedEventLoop.run()
        #expect(try outbound(channel) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$6\r\nASKING\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\nc\r\n")
        try channel.writeInbound(ByteBuffer(string: "$1\r\nA\r\n+OK\r\n$1\r\nB\r\n$1\r\nC\r\n"))
        #expect(try before.wait() == .bulkString(Array("A".utf8)))
        #expect(try promise.futureResult.wait() == .bulkString(Array("B".utf8)))
        #expect(try after.wait() == .bulkString(Array("C".utf8)))
        _ = try channel.finish()
    }

    @Test func aDroppedConnectionFailsEveryPendingCommand() throws {
        let channel = try makeChannel()
        let futures = (0..<5).map { _ in send(channel, RedisCommand("PING")) }
        channel.embeddedEventLoop.run()
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        channel.pipeline.fireChannelInactive()
        #expect(try futures[0].wait() == .simpleString("PONG"))
        for future in futures.dropFirst() {
            #expect(Self.code(of: { try future.wait() }) == .connectionClosed)
        }
        let late = send(channel, RedisCommand("PING"))
        #expect(Self.code(of: { try late.wait() }) == .connectionClosed)
    }

    @Test func aSlowReplyTimesOutAndClosesTheConnection() throws {
        let channel = try makeChannel()
        let first = send(channel, RedisCommand("PING"), timeout: .milliseconds(100))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(50))
        let second = send(channel, RedisCommand("PING"), timeout: .milliseconds(100))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(60))
        #expect(Self.code(of: { try first.wait() }) == .timeout)
        #expect(Self.code(of: { try second.wait() }) == .timeout)
        #expect(!channel.isActive)
    }

    @Test func aReplyInTimeCancelsNothing() throws {
        let channel = try makeChannel()
        let first = send(channel, RedisCommand("PING"), timeout: .milliseconds(100))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(90))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(try first.wait() == .simpleString("PONG"))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func eachCommandKeepsTheDeadlineItCameWith() throws {
        // A command that already waited for a connection has less time left than a fresh one.
        let channel = try makeChannel()
        let late = send(channel, RedisCommand("PING"), timeout: .milliseconds(30))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(31))
        #expect(Self.code(of: { try late.wait() }) == .timeout)
    }

    @Test func writabilityChangesReachThePool() throws {
        let seen = NIOLockedValueBox<[Bool]>([])
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler(onWritabilityChange: { writable in
            seen.withLockedValue { $0.append(writable) }
        }))
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(seen.withLockedValue { $0 } == [channel.isWritable])
    }

    @Test func aProtocolErrorFailsEverythingAndCloses() throws {
        let channel = try makeChannel()
        let pending = send(channel, RedisCommand("PING"))
        channel.embeddedEventLoop.run()
        // The decoder's error reaches the handler through errorCaught.
        try? channel.writeInbound(ByteBuffer(string: "?garbage\r\n"))
        #expect(throws: RedisClientError.self) { try pending.wait() }
        #expect(!channel.isActive)
    }
}
