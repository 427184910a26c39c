// Query string parsing (QueryParameters.parse) on arbitrary text after `?`, for each set of
// parameters an endpoint takes. Properties:
// - no crash; the parameters, or a 400 `invalid-query` problem, exactly as the byte-level
//   reference (FuzzSupport/ReferenceHTTPFields.query: split at `&` and the first `=`, `+` is a
//   space, `%XX` a byte) reads them, for the same reason (bad escape, unknown or repeated name);
// - what parses re-parses consistently: the values percent-encoded again read back the same.
import FuzzSupport
@testable import SessiondAPI

let endpoints: [Set<String>] = [[], ["touch"], ["except"], ["touch", "except"]]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    // The server hands the request target to the router as text, bad UTF-8 repaired.
    let text = String(decoding: bytes, as: UTF8.self)
    let utf8 = Array(text.utf8)
    for allowed in endpoints {
        let result = QueryParameters.parse(Substring(text), allowed: allowed)
        let expected = ReferenceHTTPFields.query(utf8, allowed: allowed)
        switch (result, expected) {
        case let (.success(values), .success(wanted)):
            let got = values.mapValues { Array($0.utf8) }
            require(got == wanted, "\(values) but the reference reads \(wanted) from \(show(utf8)) (allowed \(allowed.sorted()))")
            let written = values.sorted { $0.key < $1.key }.map {
                ReferenceHTTPFields.percentEncode(Array($0.key.utf8)) + [UInt8(ascii: "=")] + ReferenceHTTPFields.percentEncode(Array($0.value.utf8))
            }.joined(separator: [UInt8(ascii: "&")])
            let again = QueryParameters.parse(Substring(String(decoding: Array(written), as: UTF8.self)), allowed: allowed)
            guard case let .success(reread) = again, reread.mapValues({ Array($0.utf8) }) == got else {
                fatalError("fuzz property violated: \(show(Array(written))) does not read back as \(values)")
            }
        case let (.failure(problem), .failure(reason)):
            require(problem.type == .invalidQuery, "refused with \(problem.type.slug), not invalid-query")
            let said: ReferenceHTTPFields.QueryFailure =
                problem.detail.contains("percent-escape") ? .malformed : problem.detail.contains("more than once") ? .repeated : .notAllowed
            require(said == reason, "refused as \(said) (\(problem.detail)) but the reference says \(reason): \(show(utf8)) (allowed \(allowed.sorted()))")
        default:
            fatalError("fuzz property violated: \(result) but the reference reads \(expected) from \(show(utf8)) (allowed \(allowed.sorted()))")
        }
    }
    return 0
}
