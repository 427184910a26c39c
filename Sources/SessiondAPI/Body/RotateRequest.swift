import HTTPTransport
import JSONDocument
import SessionCore

/// What a `POST /sessions/{sid}/rotate` asks for: the grace window (`?grace=5s`) and the new
/// sid the app minted (`{"sid": "..."}`), both optional.
struct RotateRequest: Sendable {
    /// The grace window in milliseconds (0 for none), before the cap of `--rotation-grace`;
    /// nil for that setting.
    var grace: Int64?
    /// The new sid, a random (version 4) UUID the app drew; nil for one of the server's.
    var sid: SessionID?

    /// Reads the query and the body of a rotate.
    /// - Returns: the request, or the problem: 400 `invalid-query` for an unknown parameter or a
    ///   `grace` that is not a duration (`0`, `500ms`, `5s`, `1m`); for a body, 415 without
    ///   `application/json`, 400 for text that is not strict JSON, 422 `invalid-body` for
    ///   anything but `{"sid": "<uuid>"}`, 400 `malformed-sid` for a sid that is not a random
    ///   (version 4) UUID in lowercase canonical form.
    static func parse(_ request: Request, maxDataDepth: Int) -> Result<RotateRequest, Problem> {
        var rotate = RotateRequest()
        switch QueryParameters.parse(request.query, allowed: ["grace"]) {
        case let .failure(problem):
            return .failure(problem)
        case let .success(values):
            if let text = values["grace"] {
                guard let grace = ["0", "0s", "0ms"].contains(text) ? 0 : DurationText.milliseconds(text) else {
                    return .failure(Problem(.invalidQuery, detail: "grace must be a duration such as 0, 500ms, 5s or 1m"))
                }
                rotate.grace = grace
            }
        }
        guard request.body.readableBytes > 0 || !request.headers["Content-Type"].isEmpty else { return .success(rotate) }
        if let problem = MediaType.check(request.headers, expected: "application/json") { return .failure(problem) }
        let root: JSONValue
        switch SessionBody.parseObject(request, maxDataDepth: maxDataDepth, fields: ["sid"]) {
        case let .failure(problem): return .failure(problem)
        case let .success(value): root = value
        }
        guard let member = root.member("sid") else { return .success(rotate) }
        guard let text = member.stringValue else {
            return .failure(Problem(.invalidBody, detail: "sid must be a string: a random (version 4) UUID the app drew"))
        }
        guard let sid = SessionID(text[...]), sid.isRandomVersion4 else {
            return .failure(Problem(
                .malformedSID,
                detail: "the new sid must be a random (version 4) UUID in lowercase canonical form, such as 1b4e28ba-2fa1-41d2-883f-0016d3cca427"
            ))
        }
        rotate.sid = sid
        return .success(rotate)
    }
}
