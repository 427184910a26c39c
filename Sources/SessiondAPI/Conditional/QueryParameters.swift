/// The query string of a request, checked against the parameters an endpoint takes.
enum QueryParameters {
    /// The values of `query` (`a=1&b=2`, percent-decoded, `+` as space) by name.
    ///
    /// - Returns: the values, or a 400 `invalid-query` problem when a name is not in `allowed`,
    ///   appears twice, or does not decode. An absent or empty query gives no values.
    static func parse(_ query: Substring?, allowed: Set<String>) -> Result<[String: String], Problem> {
        guard let query, !query.isEmpty else { return .success([:]) }
        var values: [String: String] = [:]
        // The syntax is bytes: split the UTF-8, not Characters (a combining mark after `&`, `=`
        // or `+` would join it into one Character and hide it).
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : Substring().utf8) else {
                return .failure(Problem(.invalidQuery, detail: "the query string has a malformed percent-escape"))
            }
            guard allowed.contains(name) else {
                let accepted = allowed.isEmpty ? "none" : allowed.sorted().joined(separator: ", ")
                return .failure(Problem(.invalidQuery, detail: "this endpoint takes no query parameter of that name; accepted: \(accepted)"))
            }
            guard values[name] == nil else {
                return .failure(Problem(.invalidQuery, detail: "the query parameter \(name) is given more than once"))
            }
            values[name] = value
        }
        return .success(values)
    }

    /// `+` as a space, then percent-decoding. `bytes` were cut at ASCII bytes of valid UTF-8, so
    /// they are valid UTF-8 themselves.
    private static func decode(_ bytes: Substring.UTF8View) -> String? {
        let spaced = String(decoding: bytes.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return PercentDecoding.decode(spaced[...])
    }
}
