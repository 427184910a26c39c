import HTTPTransport
import Logging
import NIOCore
import NIOHTTP1

/// What the API keeps of a request until it is answered: its route and endpoint, for the
/// metrics and the access line.
package struct RequestTag: Sendable {
    package let route: Route
    /// Nil when no route matched.
    package let endpoint: Endpoint?
}

extension Application: HTTPResponder {
    package var maxBodyBytes: Int { limits.maxBodyBytes }
    package var maxHeadBytes: Int { limits.maxHeadBytes }

    package func tag(method: HTTPMethod, target: String) -> RequestTag {
        let path = Request(method: method, uri: target).path
        return RequestTag(route: Router.route(method, path).0, endpoint: nil)
    }

    /// The problem for each refusal of the transport.
    package func refusal(_ refusal: HTTPRefusal) -> Response {
        let problem: Problem
        switch refusal {
        case let .unreadable(error):
            let type: ProblemType
            switch error.code {
            case .malformed: type = .badRequest
            case .headTooLarge: type = .headerTooLarge
            case .targetTooLong: type = .uriTooLong
            case .unsupportedTransferCoding: type = .unsupportedTransferCoding
            case .unsupportedVersion: type = .httpVersionNotSupported
            }
            problem = Problem(type, detail: error.detail)
        case .hostMissing:
            problem = Problem(.badRequest, detail: "an HTTP/1.1 request needs a Host header")
        case .hostRepeated:
            problem = Problem(.badRequest, detail: "a request may carry one Host header only")
        case .connect:
            problem = Problem(
                .methodNotAllowed, detail: "sessiond is not a proxy: CONNECT is not supported",
                headers: ["Allow": "GET, HEAD, POST, PUT, PATCH, DELETE"]
            )
        case let .bodyTooLarge(limit):
            problem = Problem(.bodyTooLarge, detail: "the body exceeds the limit of \(limit) bytes")
        case let .timeout(seconds, headArrived):
            problem = Problem(
                .requestTimeout,
                detail: headArrived
                    ? "the request did not arrive whole within \(seconds) s" : "the request head did not arrive within \(seconds) s of its first byte"
            )
        }
        return problem.response
    }

    /// Records the answer in the metrics and writes its access line (to the access log, or
    /// through the logger at info level).
    package func answered(_ response: Response, tag: RequestTag?, method: HTTPMethod?, requestID: String, duration: TimeAmount) {
        let route = tag?.route ?? .unmatched
        metrics.recordRequest(route: route, status: response.status, duration: .nanoseconds(duration.nanoseconds))
        if let slug = response.problemSlug { metrics.recordProblem(slug: slug) }
        if let accessLog {
            accessLog.record(
                AccessEntry(
                    requestID: requestID, method: method, route: route, status: response.status.code,
                    durationMicroseconds: duration.nanoseconds / 1000, handle: tag?.endpoint?.handle, problem: response.problemSlug
                )
            )
            return
        }
        guard accessLogger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": "\(requestID)", "route": "\(route.rawValue)",
            "status": .stringConvertible(Int(response.status.code)), "duration_us": .stringConvertible(duration.nanoseconds / 1000),
        ]
        if let method { metadata["method"] = "\(method.rawValue)" }
        // Hashed here, only when the line is written.
        if let handle = tag?.endpoint?.handle { metadata["handle"] = "\(handle)" }
        if let slug = response.problemSlug { metadata["problem"] = "\(slug)" }
        accessLogger.info("request", metadata: metadata)
    }
}
