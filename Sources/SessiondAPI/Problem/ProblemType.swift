import HTTPTransport
import NIOHTTP1

/// The kinds of problem the API reports, each with a stable `type` URI, status and title.
/// The OpenAPI document lists the same set.
public struct ProblemType: Sendable, Hashable {
    /// The last segment of the type URI, e.g. `malformed-sid`.
    public let slug: String
    public let status: HTTPResponseStatus
    public let title: String

    /// `https://sessiond.dev/problems/<slug>`: an identifier, stable across versions.
    public var uri: String { "https://sessiond.dev/problems/" + slug }

    public static func == (lhs: ProblemType, rhs: ProblemType) -> Bool { lhs.slug == rhs.slug }
    public func hash(into hasher: inout Hasher) { hasher.combine(slug) }

    public static let badRequest = ProblemType(slug: "bad-request", status: .badRequest, title: "Malformed HTTP request")
    public static let headerTooLarge = ProblemType(slug: "header-too-large", status: .requestHeaderFieldsTooLarge, title: "Request head is too large")
    public static let uriTooLong = ProblemType(slug: "uri-too-long", status: .uriTooLong, title: "Request line is too long")
    public static let unsupportedTransferCoding = ProblemType(slug: "unsupported-transfer-coding", status: .notImplemented, title: "Unsupported transfer coding")
    public static let httpVersionNotSupported = ProblemType(slug: "http-version-not-supported", status: .httpVersionNotSupported, title: "HTTP version not supported")
    public static let malformedSID = ProblemType(slug: "malformed-sid", status: .badRequest, title: "Malformed session id")
    public static let invalidJSON = ProblemType(slug: "invalid-json", status: .badRequest, title: "Body is not valid JSON")
    public static let invalidUTF8 = ProblemType(slug: "invalid-utf8", status: .badRequest, title: "Body is not valid UTF-8")
    public static let duplicateKey = ProblemType(slug: "duplicate-key", status: .badRequest, title: "Body has a duplicate object key")
    public static let tooDeep = ProblemType(slug: "too-deep", status: .badRequest, title: "Body nests too deeply")
    public static let invalidBody = ProblemType(slug: "invalid-body", status: .unprocessableEntity, title: "Body does not describe a session")
    public static let unsupportedValue = ProblemType(slug: "unsupported-value", status: .unprocessableEntity, title: "Body holds a value that cannot be stored exactly")
    public static let bodyTooLarge = ProblemType(slug: "body-too-large", status: .payloadTooLarge, title: "Body is too large")
    public static let unsupportedMediaType = ProblemType(slug: "unsupported-media-type", status: .unsupportedMediaType, title: "Unsupported media type")
    public static let sessionNotFound = ProblemType(slug: "session-not-found", status: .notFound, title: "Session not found")
    public static let notFound = ProblemType(slug: "not-found", status: .notFound, title: "No such resource")
    public static let methodNotAllowed = ProblemType(slug: "method-not-allowed", status: .methodNotAllowed, title: "Method not allowed")
    public static let preconditionFailed = ProblemType(slug: "precondition-failed", status: .preconditionFailed, title: "Session version has moved on")
    public static let sessionExists = ProblemType(slug: "session-exists", status: .preconditionFailed, title: "A session with this id exists")
    public static let invalidIfNoneMatch = ProblemType(slug: "invalid-if-none-match", status: .badRequest, title: "Unsupported If-None-Match header")
    public static let rotated = ProblemType(slug: "rotated", status: .conflict, title: "Session id was rotated")
    public static let tooManySessions = ProblemType(slug: "too-many-sessions", status: .conflict, title: "Subject has too many sessions")
    public static let lifetimeTooLong = ProblemType(slug: "lifetime-too-long", status: .unprocessableEntity, title: "Lifetime is longer than allowed")
    public static let invalidIfMatch = ProblemType(slug: "invalid-if-match", status: .badRequest, title: "Malformed If-Match header")
    public static let invalidQuery = ProblemType(slug: "invalid-query", status: .badRequest, title: "Unsupported query parameter")
    public static let malformedSubject = ProblemType(slug: "malformed-subject", status: .badRequest, title: "Malformed subject")
    public static let malformedHandle = ProblemType(slug: "malformed-handle", status: .badRequest, title: "Malformed session handle")
    public static let deviceTooLarge = ProblemType(slug: "device-too-large", status: .unprocessableEntity, title: "Device object is too large")
    public static let dataTooLarge = ProblemType(slug: "data-too-large", status: .unprocessableEntity, title: "Merged session data is too large")
    public static let unauthorized = ProblemType(slug: "unauthorized", status: .unauthorized, title: "Missing or wrong API key")
    public static let storeFull = ProblemType(slug: "store-full", status: .insufficientStorage, title: "Session store is full")
    public static let requestTimeout = ProblemType(slug: "request-timeout", status: .requestTimeout, title: "Request not received in time")
    public static let shuttingDown = ProblemType(slug: "shutting-down", status: .serviceUnavailable, title: "sessiond is shutting down")
    public static let storeUnavailable = ProblemType(slug: "store-unavailable", status: .serviceUnavailable, title: "Session store unavailable")
    public static let malformedEventID = ProblemType(slug: "malformed-event-id", status: .badRequest, title: "Malformed event ID")
    public static let eventsOff = ProblemType(slug: "events-off", status: .notImplemented, title: "Lifecycle events are off")
    public static let internalError = ProblemType(slug: "internal-error", status: .internalServerError, title: "Internal error")

    /// Every problem type, for the metrics (one series each) and the tests.
    public static let all: [ProblemType] = [
        badRequest, headerTooLarge, uriTooLong, unsupportedTransferCoding, httpVersionNotSupported, malformedSID, invalidJSON,
        invalidUTF8, duplicateKey, tooDeep, invalidBody, unsupportedValue, bodyTooLarge, unsupportedMediaType, sessionNotFound,
        notFound, methodNotAllowed, preconditionFailed, sessionExists, rotated, tooManySessions, invalidIfNoneMatch, lifetimeTooLong, invalidIfMatch, invalidQuery, malformedSubject, malformedHandle,
        dataTooLarge, deviceTooLarge, unauthorized, storeFull, requestTimeout, shuttingDown, storeUnavailable, internalError,
        malformedEventID, eventsOff,
    ]
}
