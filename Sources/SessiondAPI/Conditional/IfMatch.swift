import HTTPTransport
import NIOHTTP1
import SessionCore

/// The `If-Match` request header (RFC 9110 §13.1.1) as a `WriteCondition`.
enum IfMatch {
    /// - Returns: `.always` without the header or for `*`; else the versions of the strong
    ///   entity tags listed (weak tags, and tags that are not one of our version numbers, match
    ///   nothing: strong comparison). Several header lines count as one list. A value that is
    ///   not `*` or a list of entity tags is a 400 `invalid-if-match` problem.
    static func condition(_ headers: HTTPHeaders) -> Result<WriteCondition, Problem> {
        let lines = headers["If-Match"]
        guard !lines.isEmpty else { return .success(.always) }
        let value = lines.joined(separator: ",")
        if value.trimmingBlanks() == "*" { return .success(.always) }
        var versions = Set<UInt64>()
        var tagCount = 0
        for element in value.split(separator: ",", omittingEmptySubsequences: false) {
            var tag = element.trimmingBlanks()
            // RFC 9110 list syntax allows empty elements; at least one tag is needed.
            if tag.isEmpty { continue }
            var weak = false
            if tag.hasPrefix("W/") {
                weak = true
                tag = tag.dropFirst(2)
            }
            guard tag.count >= 2, tag.first == "\"", tag.last == "\"" else { return .failure(invalid) }
            let opaque = tag.dropFirst().dropLast()
            // etagc = %x21 / %x23-7E (RFC 9110; its obsolete non-ASCII obs-text is refused):
            // no space, no DQUOTE, no control characters; a comma has split the list already.
            guard opaque.utf8.allSatisfy({ $0 == 0x21 || ($0 >= 0x23 && $0 <= 0x7E) }) else { return .failure(invalid) }
            tagCount += 1
            if !weak, let version = canonicalVersion(opaque) { versions.insert(version) }
        }
        guard tagCount > 0 else { return .failure(invalid) }
        return .success(.versions(versions))
    }

    /// The version an ETag's opaque part spells as we write it (decimal, no leading zero).
    private static func canonicalVersion(_ text: Substring) -> UInt64? {
        guard let version = UInt64(text), String(version) == text else { return nil }
        return version
    }

    private static let invalid = Problem(
        .invalidIfMatch,
        detail: #"If-Match must be * or a list of entity tags such as "3" (as the ETag header gives them)"#
    )
}
