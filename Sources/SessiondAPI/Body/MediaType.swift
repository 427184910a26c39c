import HTTPTransport
import NIOHTTP1

/// Checks a request's `Content-Type` against the one media type an endpoint takes.
enum MediaType {
    /// Nil when `headers` declare `expected` (case-insensitive, parameters allowed, but a
    /// `charset` other than UTF-8 is refused); else a 415 problem that names what is expected.
    static func check(_ headers: HTTPHeaders, expected: String) -> Problem? {
        let values = headers["Content-Type"]
        guard values.count == 1, let value = values.first else {
            let what = values.isEmpty ? "no Content-Type" : "several Content-Type headers"
            return Problem(.unsupportedMediaType, detail: "the body came with \(what); send Content-Type: \(expected)")
        }
        var parts = value.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
        let type = (parts.next() ?? "").trimmingBlanks().lowercased()
        guard type == expected else {
            return Problem(.unsupportedMediaType, detail: "Content-Type \(type) is not accepted here; send \(expected)")
        }
        while let parameter = parts.next() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingBlanks().lowercased() == "charset" else { continue }
            let charset = pair[1].trimmingBlanks().lowercased().trimmingQuotes()
            guard charset == "utf-8" || charset == "utf8" else {
                return Problem(.unsupportedMediaType, detail: "charset \(charset) is not accepted; JSON bodies are UTF-8")
            }
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingQuotes() -> String {
        guard count >= 2, first == "\"", last == "\"" else { return self }
        return String(dropFirst().dropLast())
    }
}
