// The If-Match header (IfMatch.condition) on arbitrary field values: the input is the field
// lines, separated by LF (several lines count as one list). Properties:
// - no crash; `.always`, a set of versions, or a 400 `invalid-if-match` problem, and exactly
//   the one the byte-level reference (FuzzSupport/ReferenceHTTPFields.ifMatch, RFC 9110) gives;
// - what parses re-parses consistently: the versions written back as a list of strong tags (as
//   ETag gives them) parse to the same versions, in one line or one tag per line.
import FuzzSupport
import NIOHTTP1
import SessionCore
@testable import SessiondAPI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let result = condition(lines)
    let expected = ReferenceHTTPFields.ifMatch(lines.map { Array($0.utf8) })
    switch (result, expected) {
    case (.success(.always), .always):
        break
    case let (.success(.versions(versions)), .versions(wanted)):
        require(versions == wanted, "versions \(versions.sorted()) but the reference reads \(wanted.sorted()) in \(show(bytes))")
        let tags = versions.sorted().map { "\"\($0)\"" }
        if !tags.isEmpty {
            for written in [[tags.joined(separator: ", ")], tags] {
                guard case let .success(.versions(again)) = condition(written), again == versions else {
                    fatalError("fuzz property violated: \(written) does not read back as \(versions.sorted())")
                }
            }
        }
    case let (.failure(problem), .invalid):
        require(problem.type == .invalidIfMatch, "refused with \(problem.type.slug), not invalid-if-match: \(show(bytes))")
    default:
        fatalError("fuzz property violated: \(result) but the reference reads \(expected) in \(show(bytes))")
    }
    return 0
}

func condition(_ lines: [String]) -> Result<WriteCondition, Problem> {
    var headers = HTTPHeaders()
    for line in lines { headers.add(name: "If-Match", value: line) }
    return IfMatch.condition(headers)
}
