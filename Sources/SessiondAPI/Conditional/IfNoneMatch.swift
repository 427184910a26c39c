import HTTPTransport
import NIOHTTP1

/// The `If-None-Match` request header (RFC 9110 §13.1.2), which this API takes in one form
/// only: `If-None-Match: *` on `PUT /sessions/{sid}`, "create this session unless it exists".
enum IfNoneMatch {
    /// Whether a `PUT` asks to create.
    /// - Returns: false without the header, true for `*`; a 400 `invalid-if-none-match` problem
    ///   for any other value (entity tags are not supported).
    static func createOnly(_ headers: HTTPHeaders) -> Result<Bool, Problem> {
        let lines = headers["If-None-Match"]
        guard !lines.isEmpty else { return .success(false) }
        guard lines.joined(separator: ",").trimmingBlanks() == "*" else {
            return .failure(Problem(
                .invalidIfNoneMatch,
                detail: "If-None-Match takes only * (create the session unless one has this id); entity tags are not supported"
            ))
        }
        return .success(true)
    }

    /// The refusal of `If-None-Match` on a request other than `PUT`: it would only ever fail.
    /// - Returns: nil without the header, else a 400 `invalid-if-none-match` problem.
    static func refused(_ headers: HTTPHeaders) -> Problem? {
        guard !headers["If-None-Match"].isEmpty else { return nil }
        return Problem(
            .invalidIfNoneMatch,
            detail: "If-None-Match is taken only by PUT /sessions/{sid}, as If-None-Match: * to create; use If-Match here"
        )
    }
}
