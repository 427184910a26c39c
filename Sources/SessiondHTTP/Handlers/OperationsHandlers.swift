import NIOCore
import NIOHTTP1
import SessionCore

/// `/livez`, `/readyz` and `/openapi.yaml`.
struct OperationsHandlers: Sendable {
    let store: any SessionStore
    let storeName: String

    /// The process is up and serving HTTP.
    func livez() -> Response {
        .json(.ok, Array(#"{"status":"alive"}"#.utf8))
    }

    /// 200 when the store answers, else 503 `store-unavailable` with `Retry-After`.
    func readyz(on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let storeName = self.storeName
        return store.checkReady(on: eventLoop).map {
            Response.json(.ok, Array(#"{"status":"ready","store":"\#(storeName)"}"#.utf8))
        }
    }

    /// The OpenAPI document the service implements.
    func openAPIDocument() -> Response {
        Response(status: .ok, headers: ["Content-Type": "application/yaml; charset=utf-8"], body: OpenAPIDocument.buffer)
    }
}
