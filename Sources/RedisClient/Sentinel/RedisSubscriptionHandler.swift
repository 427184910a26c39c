import NIOCore

/// The end of a pipeline subscribed to Pub/Sub channels: every reply is a push
/// (`["message", channel, payload]`, or the subscription's confirmations), handed to `onPush`
/// on the channel's event loop. Commands are written as they come; nothing is matched.
public final class RedisSubscriptionHandler: ChannelDuplexHandler {
    public typealias InboundIn = RESPValue
    public typealias OutboundIn = RedisCommand
    public typealias OutboundOut = RedisCommand

    private let onPush: @Sendable (RESPValue) -> Void

    public init(onPush: @escaping @Sendable (RESPValue) -> Void) {
        self.onPush = onPush
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onPush(unwrapInboundIn(data))
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
