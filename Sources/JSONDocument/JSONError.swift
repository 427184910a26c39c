/// Why a JSON text was refused.
///
/// A struct with static members rather than an enum, so that new reasons do not break callers
/// that switch over the ones they know. Compare with `==` against the static members.
public struct JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case syntax
        case invalidUTF8
        case duplicateKey
        case tooDeep
        case numberOutOfRange
        case nulInKey
        case outOfMemory
    }

    private let code: Code
    /// A human explanation with the position, fit for a problem's `detail`; never a C pointer.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The text is not JSON (including lone surrogates in `\u` escapes and trailing bytes).
    public static let syntax = JSONError(.syntax, "")
    /// The text is not valid UTF-8.
    public static let invalidUTF8 = JSONError(.invalidUTF8, "")
    /// An object names the same key twice.
    public static let duplicateKey = JSONError(.duplicateKey, "")
    /// Arrays and objects nest deeper than the limit.
    public static let tooDeep = JSONError(.tooDeep, "")
    /// A number cannot be held exactly: an integer beyond 64 bits, or a real beyond a double.
    public static let numberOutOfRange = JSONError(.numberOutOfRange, "")
    /// An object key contains `\u0000`, which jansson cannot hold (string values may).
    public static let nulInKey = JSONError(.nulInKey, "")
    /// The parser ran out of memory.
    public static let outOfMemory = JSONError(.outOfMemory, "")

    /// The same reason with a detail.
    func with(detail: String) -> JSONError { JSONError(code, detail) }

    /// Equality compares the reason only, so `error == .duplicateKey` works whatever the detail.
    public static func == (lhs: JSONError, rhs: JSONError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { detail.isEmpty ? "\(code)" : detail }
}
