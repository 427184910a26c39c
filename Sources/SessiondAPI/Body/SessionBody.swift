import HTTPTransport
import JSONDocument
import NIOCore
import NIOHTTP1
import SessionCore

/// The writable part of a session, as a request body carries it:
/// `{"data": {...}, "permanent": false, "subject": "user-42", "lifetime": 300}`.
struct SessionBody: Sendable {
    /// `data` as compact JSON object bytes.
    var data: [UInt8]
    var permanent: Bool
    var subject: Subject?
    /// The session's own idle lifetime in milliseconds, or nil for none.
    var lifetime: Int64?
    /// The device object as compact JSON, or nil for none.
    var device: [UInt8]?

    /// The fields a body may hold; anything else is refused.
    static let fields: Set<String> = ["data", "permanent", "subject", "lifetime", "device"]

    /// Validates and reads a create (`POST /sessions`) or replace (`PUT`) body.
    ///
    /// - Parameters:
    ///   - dataRequired: true for PUT (a replace states the whole data); for POST an empty body
    ///     or a missing `data` means `{}`. A missing `permanent` is false, a missing `subject`
    ///     none, in both.
    ///   - maxDataDepth: how deep `data` may nest, `data` itself being level 1.
    ///   - maxLifetime: the longest `lifetime` allowed, in milliseconds.
    /// - Returns: the body, or the problem to answer: 415 for another media type; 400 for text
    ///   that is not JSON, not UTF-8, has a duplicate key, or nests too deep; 422 for JSON that is
    ///   not such an object (unknown field, wrong type, missing `data`, an unholdable number, a
    ///   `lifetime` that is not a whole number of seconds from 1, or longer than `maxLifetime`).
    static func parse(
        _ request: Request, dataRequired: Bool, maxDataDepth: Int, maxLifetime: Int64
    ) -> Result<SessionBody, Problem> {
        if request.body.readableBytes == 0 && !dataRequired && request.headers["Content-Type"].isEmpty {
            return .success(SessionBody(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil, device: nil))
        }
        if let problem = MediaType.check(request.headers, expected: "application/json") {
            return .failure(problem)
        }
        let root: JSONValue
        switch parseObject(request, maxDataDepth: maxDataDepth, fields: fields) {
        case let .failure(problem): return .failure(problem)
        case let .success(value): root = value
        }
        var body = SessionBody(data: Array("{}".utf8), permanent: false, subject: nil, lifetime: nil, device: nil)
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
        if let member = root.member("subject") {
            switch subject(member) {
            case let .failure(problem): return .failure(problem)
            case let .success(subject): body.subject = subject
            }
        }
        if let member = root.member("lifetime") {
            switch lifetime(member, max: maxLifetime) {
            case let .failure(problem): return .failure(problem)
            case let .success(lifetime): body.lifetime = lifetime
            }
        }
        if let member = root.member("device") {
            switch device(member) {
            case let .failure(problem): return .failure(problem)
            case let .success(device): body.device = device
            }
        }
        return .success(body)
    }

    /// A `lifetime` member: whole seconds from 1 to `max` (milliseconds), or null for none.
    /// - Returns: the lifetime in milliseconds, or nil for null; else the problem: 422
    ///   `invalid-body` for anything but a whole positive number, `lifetime-too-long` above `max`.
    static func lifetime(_ member: JSONValue, max: Int64) -> Result<Int64?, Problem> {
        if member.kind == .null { return .success(nil) }
        let maxSeconds = max / 1000
        guard let seconds = wholeNumber(member), seconds >= 1 else {
            return .failure(Problem(
                .invalidBody, detail: "lifetime must be a whole number of seconds from 1 (or null for none), not \(describeNumber(member))"
            ))
        }
        guard seconds <= maxSeconds else {
            return .failure(Problem(
                .lifetimeTooLong,
                detail: "lifetime may be at most \(maxSeconds) seconds (--max-lifetime); nothing was changed"
            ))
        }
        return .success(seconds * 1000)
    }

    /// The most members a `device` object may have, and the most characters (Unicode code
    /// points) of a member's name and of its string value.
    static let maxDeviceMembers = 8
    static let maxDeviceNameLength = 32
    static let maxDeviceValueLength = 256

    /// A `device` member: a JSON object of at most `maxDeviceMembers` string values, names of
    /// at most `maxDeviceNameLength` characters and values of at most `maxDeviceValueLength`,
    /// or null for none.
    /// - Returns: its compact JSON, or nil for null; else 422 `invalid-body` for anything but an
    ///   object of strings, 422 `device-too-large` for one beyond the limits.
    static func device(_ member: JSONValue) -> Result<[UInt8]?, Problem> {
        if member.kind == .null { return .success(nil) }
        guard member.kind == .object else {
            return .failure(Problem(.invalidBody, detail: "device must be a JSON object of strings (or null for none), not \(describe(member.kind))"))
        }
        let names = member.keys
        guard names.count <= maxDeviceMembers else {
            return .failure(Problem(
                .deviceTooLarge, detail: "device has \(names.count) members; at most \(maxDeviceMembers) are kept; nothing was changed"
            ))
        }
        for name in names {
            guard let value = member.member(name)?.stringValue else {
                return .failure(Problem(.invalidBody, detail: "device members must be strings (a user agent, an address, a name)"))
            }
            guard name.unicodeScalars.count <= maxDeviceNameLength, value.unicodeScalars.count <= maxDeviceValueLength else {
                return .failure(Problem(
                    .deviceTooLarge,
                    detail: "device member names may have at most \(maxDeviceNameLength) characters and values \(maxDeviceValueLength); nothing was changed"
                ))
            }
        }
        return .success(member.compactJSON())
    }

    /// The whole number a JSON number spells, as JSON Schema counts integers: `300`, and
    /// also `300.0` or `3e2`; nil for a fraction, a non-number, or beyond 64 bits.
    private static func wholeNumber(_ value: JSONValue) -> Int64? {
        if let integer = value.integerValue { return integer }
        guard let real = value.realValue, real.rounded(.towardZero) == real, abs(real) < 9.2e18 else { return nil }
        return Int64(real)
    }

    /// A value's kind, and a number as "a fraction" or "a number below 1".
    private static func describeNumber(_ value: JSONValue) -> String {
        switch value.kind {
        case .real: return "a number with a fraction"
        case .integer: return "a number below 1"
        default: return describe(value.kind)
        }
    }

    /// Parses the body as a JSON object whose members are all in `fields`.
    /// - Returns: the object, or the problem to answer (see `parse`).
    static func parseObject(_ request: Request, maxDataDepth: Int, fields: Set<String>) -> Result<JSONValue, Problem> {
        let document: JSONDocument
        do {
            document = try request.body.withUnsafeReadableBytes { bytes throws(JSONError) in
                try JSONDocument.parse(bytes, maxDepth: maxDataDepth + 1)
            }
        } catch {
            return .failure(problem(for: error, maxDataDepth: maxDataDepth))
        }
        let root = document.value
        let names = fields.sorted().joined(separator: ", ")
        guard root.kind == .object else {
            return .failure(Problem(.invalidBody, detail: "the body must be a JSON object with the fields \(names)"))
        }
        if let unknown = root.keys.first(where: { !fields.contains($0) }) {
            return .failure(Problem(.invalidBody, detail: "unknown field \(quoted(unknown)); this body takes only \(names)"))
        }
        return .success(root)
    }

    /// A `subject` member: a string of 1 to 256 bytes, or null for none.
    static func subject(_ member: JSONValue) -> Result<Subject?, Problem> {
        if member.kind == .null { return .success(nil) }
        guard let text = member.stringValue else {
            return .failure(Problem(.invalidBody, detail: "subject must be a string or null, not \(describe(member.kind))"))
        }
        guard let subject = Subject(text) else {
            return .failure(Problem(.invalidBody, detail: "subject must be 1 to \(Subject.maxBytes) bytes of UTF-8"))
        }
        return .success(subject)
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

    static func describe(_ kind: JSONKind) -> String {
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
