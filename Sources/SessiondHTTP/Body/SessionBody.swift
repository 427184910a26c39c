import JSONDocument
import NIOCore
import NIOHTTP1

/// The writable part of a session, as a request body carries it:
/// `{"data": {...}, "permanent": false}`.
struct SessionBody: Sendable {
    /// `data` as compact JSON object bytes.
    var data: [UInt8]
    var permanent: Bool

    /// The fields a body may hold; anything else is refused.
    static let fields: Set<String> = ["data", "permanent"]

    /// Validates and reads a create (`POST /sessions`) or replace (`PUT`) body.
    ///
    /// - Parameters:
    ///   - dataRequired: true for PUT (a replace states the whole data); for POST an empty body
    ///     or a missing `data` means `{}`.
    ///   - maxDataDepth: how deep `data` may nest, `data` itself being level 1.
    /// - Returns: the body, or the problem to answer: 415 for another media type; 400 for text
    ///   that is not JSON, not UTF-8, has a duplicate key, or nests too deep; 422 for JSON that is
    ///   not such an object (unknown field, wrong type, missing `data`, an unholdable number).
    static func parse(
        _ request: Request, dataRequired: Bool, maxDataDepth: Int
    ) -> Result<SessionBody, Problem> {
        if request.body.readableBytes == 0 && !dataRequired && request.headers["Content-Type"].isEmpty {
            return .success(SessionBody(data: Array("{}".utf8), permanent: false))
        }
        if let problem = MediaType.check(request.headers, expected: "application/json") {
            return .failure(problem)
        }
        let document: JSONDocument
        do {
            document = try request.body.withUnsafeReadableBytes { bytes throws(JSONError) in
                try JSONDocument.parse(bytes, maxDepth: maxDataDepth + 1)
            }
        } catch {
            return .failure(problem(for: error, maxDataDepth: maxDataDepth))
        }
        let root = document.value
        guard root.kind == .object else {
            return .failure(Problem(.invalidBody, detail: "the body must be a JSON object with the fields data and permanent"))
        }
        if let unknown = root.keys.first(where: { !fields.contains($0) }) {
            return .failure(Problem(.invalidBody, detail: "unknown field \(quoted(unknown)); a session body has only data and permanent"))
        }
        var body = SessionBody(data: Array("{}".utf8), permanent: false)
        if let data = root.member("data") {
            guard data.kind == .object else {
                return .failure(Problem(.invalidBody, detail: "data must be a JSON object, not \(describe(data.kind))"))
            }
            body.data = data.compactJSON()
        } else if dataRequired {
            return .failure(Problem(.invalidBody, detail: "data is required: a replace states the whole data (send {} to empty it)"))
        }
        if let permanent = root.member("permanent") {
            guard let flag = permanent.boolValue else {
                return .failure(Problem(.invalidBody, detail: "permanent must be true or false, not \(describe(permanent.kind))"))
            }
            body.permanent = flag
        }
        return .success(body)
    }

    private static func problem(for error: JSONError, maxDataDepth: Int) -> Problem {
        switch error {
        case .invalidUTF8: return Problem(.invalidUTF8, detail: error.detail)
        case .duplicateKey: return Problem(.duplicateKey, detail: error.detail)
        case .tooDeep: return Problem(.tooDeep, detail: "data may nest at most \(maxDataDepth) levels of objects and arrays")
        case .numberOutOfRange:
            return Problem(.unsupportedValue, detail: "\(error.detail); integers must fit in 64 bits and reals in a double")
        case .nulInKey:
            return Problem(.unsupportedValue, detail: "\(error.detail); \\u0000 is accepted in string values but not in object keys")
        default: return Problem(.invalidJSON, detail: error.detail)
        }
    }

    private static func describe(_ kind: JSONKind) -> String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .integer, .real: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    private static func quoted(_ key: String) -> String {
        var bytes: [UInt8] = []
        JSONStringEscaper.append(key, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
