import HTTPTransport
import JSONDocument
import SessionCore

/// A `PATCH /sessions/{sid}` body: an RFC 7396 merge patch (`application/merge-patch+json`) of
/// the session resource's writable members, `data`, `permanent`, `subject` and `lifetime`.
enum PatchBody {
    static let fields: Set<String> = ["data", "permanent", "subject", "lifetime", "device"]

    /// Validates a merge patch.
    ///
    /// - Parameters:
    ///   - maxDataDepth: how deep `data` (and the merged data) may nest.
    ///   - maxDataBytes: the most bytes the merged data may have (the store checks it).
    ///   - maxLifetime: the longest `lifetime` allowed, in milliseconds.
    /// - Returns: the patch, or the problem to answer: 415 for another media type; 400 for text
    ///   that is not JSON (as for PUT); 422 when the document is not an object, names another
    ///   member, removes or replaces `data` by a non-object, gives `permanent` a non-boolean, or
    ///   a `lifetime` as `SessionBody.lifetime` refuses it.
    static func parse(_ request: Request, maxDataDepth: Int, maxDataBytes: Int, maxLifetime: Int64) -> Result<SessionPatch, Problem> {
        if let problem = MediaType.check(request.headers, expected: "application/merge-patch+json") {
            return .failure(problem)
        }
        let root: JSONValue
        switch SessionBody.parseObject(request, maxDataDepth: maxDataDepth, fields: fields) {
        case let .failure(problem): return .failure(problem)
        case let .success(value): root = value
        }
        var patch = SessionPatch(data: nil, permanent: nil, subject: .keep, maxDataBytes: maxDataBytes)
        if let data = root.member("data") {
            guard data.kind == .object else {
                return .failure(Problem(
                    .invalidBody,
                    detail: "data must be a JSON object to merge into the session's data, not \(SessionBody.describe(data.kind)); send {\"data\":{}} to change nothing, or PUT to replace it"
                ))
            }
            patch.data = data.compactJSON()
        }
        if let permanent = root.member("permanent") {
            guard let flag = permanent.boolValue else {
                return .failure(Problem(.invalidBody, detail: "permanent must be true or false, not \(SessionBody.describe(permanent.kind))"))
            }
            patch.permanent = flag
        }
        if let member = root.member("subject") {
            switch SessionBody.subject(member) {
            case let .failure(problem): return .failure(problem)
            case let .success(subject): patch.subject = .set(subject)
            }
        }
        if let member = root.member("lifetime") {
            switch SessionBody.lifetime(member, max: maxLifetime) {
            case let .failure(problem): return .failure(problem)
            case let .success(lifetime): patch.lifetime = .set(lifetime)
            }
        }
        if let member = root.member("device") {
            // Replaced whole, never merged: a device object is small and stated as a whole.
            switch SessionBody.device(member) {
            case let .failure(problem): return .failure(problem)
            case let .success(device): patch.device = .set(device)
            }
        }
        return .success(patch)
    }
}
