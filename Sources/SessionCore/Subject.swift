/// Whom a session belongs to, as the app names it (a user id such as `user-42`): any string of
/// 1 to 256 bytes of UTF-8. The subject index lists and revokes a subject's sessions.
public struct Subject: Hashable, Sendable, CustomStringConvertible {
    /// The most UTF-8 bytes a subject may have.
    public static let maxBytes = 256

    public let value: String

    /// Nil when `value` is empty or longer than `maxBytes` bytes of UTF-8.
    public init?(_ value: String) {
        let count = value.utf8.count
        guard count >= 1, count <= Self.maxBytes else { return nil }
        self.value = value
    }

    public var description: String { value }

    /// Equal when the UTF-8 bytes are equal (as Redis compares them), not by Unicode
    /// equivalence: `é` and `e` + U+0301 are two subjects.
    public static func == (lhs: Subject, rhs: Subject) -> Bool { lhs.value.utf8.elementsEqual(rhs.value.utf8) }

    public func hash(into hasher: inout Hasher) {
        for byte in value.utf8 { hasher.combine(byte) }
    }
}
