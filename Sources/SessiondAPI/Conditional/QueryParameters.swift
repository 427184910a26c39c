/// The query string of a request, checked against the parameters an endpoint takes.
enum QueryParameters {
    /// The values of `query` (`a=1&b=2`, percent-decoded, `+` as space) by name.
    ///
    /// - Returns: the values, or a 400 `invalid-query` problem when a name is not in `allowed`,
    ///   appears twice, or does not decode. An absent or empty query gives no values.
    static func parse(_ query: Substring?, allowed: Set<String>) -> Result<[String: String], Problem> {
        guard let query, !query.isEmpty else { return .success([:]) }
        var values: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
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

    private static func decode(_ text: Substring) -> String? {
        PercentDecoding.decode(Substring(text.replacingOccurrences(of: "+", with: " ")))
    }
}

extension Substring {
    fileprivate func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
