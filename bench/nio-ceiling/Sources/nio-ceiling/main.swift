// nio-ceiling PORT: answers every HTTP/1.1 request on 127.0.0.1:PORT with the same 1 KiB JSON
// body (keep-alive, Content-Length), as swift-nio's NIOHTTP1Server does with its static routes.
// The pipeline is the one sessiond uses: configureHTTPServerPipeline, then one handler.
import NIOCore
import NIOHTTP1
import NIOPosix

let body: ByteBuffer = {
    let filler = String(repeating: "x", count: 1024 - 40)
    return ByteBuffer(string: #"{"data":{"user":42,"cart":[1,2,3],"blob":""# + filler + #""}}"#)
}()

final class FixedBodyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var keepAlive = true
    private var version = HTTPVersion.http1_1

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let request):
            (self.keepAlive, self.version) = (request.isKeepAlive, request.version)
        case .body:
            break
        case .end:
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            if !self.keepAlive { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: self.version, status: .ok, headers: headers)
            context.write(self.wrapOutboundOut(.head(head)), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let promise: EventLoopPromise<Void>? = self.keepAlive ? nil : context.eventLoop.makePromise()
            let channel = context.channel
            promise?.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: promise)
        }
    }
}

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8081 : 8081
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(FixedBodyHandler())
        }
    }
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.maxMessagesPerRead, value: 16)
    .bind(host: "127.0.0.1", port: port)
    .wait()
print("nio-ceiling on \(channel.localAddress!)")
try channel.closeFuture.wait()
