import HTTPTransport
import NIOCore
import NIOHTTP1
import SessionCore
import SessiondOpenAPI

/// `/livez`, `/readyz`, `/metrics` and `/openapi.yaml`.
struct OperationsHandlers: Sendable {
    /// `api/openapi.yaml`, as put into the binary at build time.
    static let openAPIDocument = ByteBuffer(bytes: OpenAPIDocument.bytes)

    /// The store `/readyz` asks (nil: none configured, never ready).
    let store: (any SessionStore)?
    let storeName: String
    let lifecycle: ServerLifecycle
    let metrics: SessiondMetrics

    /// The process is up and serving HTTP.
    func livez() -> Response {
        .json(.ok, Array(#"{"status":"alive"}"#.utf8))
    }

    /// 200 when the store answers and shutdown has not begun; else 503 `shutting-down`, or
    /// `store-unavailable` with `Retry-After`.
    func readyz(on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        if lifecycle.isDraining {
            return eventLoop.makeSucceededFuture(
                Problem(.shuttingDown, detail: "sessiond is draining its requests before it stops; send new ones elsewhere").response
            )
        }
        guard let store else {
            return eventLoop.makeSucceededFuture(Problem(.storeUnavailable, detail: "no session store is configured").response)
        }
        let storeName = self.storeName
        return store.checkReady(on: eventLoop).map {
            Response.json(.ok, Array(#"{"status":"ready","store":"\#(storeName)"}"#.utf8))
        }
    }

    /// The Prometheus text exposition of every metric.
    func metricsText() -> Response {
        var response = Response(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"])
        response.body = ByteBuffer(bytes: metrics.text())
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    /// The OpenAPI document the service implements.
    func openAPIDocument() -> Response {
        Response(status: .ok, headers: ["Content-Type": "application/yaml; charset=utf-8"], body: Self.openAPIDocument)
    }
}
