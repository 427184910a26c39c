import JSONDocument
import Testing

@Suite("Strict JSON parsing")
struct JSONParsingTests {
    private func parse(_ text: String, maxDepth: Int = 32) throws(JSONError) -> JSONDocument {
        try JSONDocument.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private func reason(_ bytes: [UInt8], maxDepth: Int = 32) -> JSONError? {
        do {
            _ = try JSONDocument.parse(bytes, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsObjectsArraysAndScalarsAtTopLevel() throws {
        #expect(try parse(#"{"a":1}"#).value.kind == .object)
        #expect(try parse("[1,2]").value.kind == .array)
        #expect(try parse(#""x""#).value.kind == .string)
        #expect(try parse("7").value.kind == .integer)
        #expect(try parse("7.5").value.kind == .real)
        #expect(try parse("true").value.boolValue == true)
        #expect(try parse("null").value.kind == .null)
    }

    @Test func rejectsDuplicateKeys() {
        #expect(reason(Array(#"{"a":1,"a":2}"#.utf8)) == .duplicateKey)
        #expect(reason(Array(#"{"o":{"k":1,"k":1}}"#.utf8)) == .duplicateKey)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(reason([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]) == .invalidUTF8)
        #expect(reason([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]) == .invalidUTF8)
        // An overlong encoding of "/".
        #expect(reason([UInt8(ascii: "\""), 0xC0, 0xAF, UInt8(ascii: "\"")]) == .invalidUTF8)
    }

    @Test func rejectsLoneSurrogates() {
        #expect(reason(Array(#""\ud800""#.utf8)) == .syntax)
        #expect(reason(Array(#""\udc00x""#.utf8)) == .syntax)
        #expect(reason(Array(#""\ud83d\u0041""#.utf8)) == .syntax)
    }

    @Test func acceptsSurrogatePairs() throws {
        #expect(try parse(#""\ud83d\ude00""#).value.stringValue == "😀")
    }

    @Test func rejectsTrailingBytesAndSyntaxErrors() {
        #expect(reason(Array(#"{"a":1} x"#.utf8)) == .syntax)
        #expect(reason(Array(#"{"a":1}{}"#.utf8)) == .syntax)
        #expect(reason(Array("{'a':1}".utf8)) == .syntax)
        #expect(reason(Array(#"{"a":1,}"#.utf8)) == .syntax)
        #expect(reason(Array("".utf8)) == .syntax)
        #expect(reason(Array("NaN".utf8)) == .syntax)
    }

    @Test func rejectsRawNulBytesOutsideStrings() {
        // jansson 2.14 drops a NUL byte it read ahead after a number or a word: it loaded all of
        // these as if the NUL were not there (found by fuzz/FuzzJSON).
        let texts: [[UInt8]] = [
            Array("[1".utf8) + [0] + Array("]".utf8),
            Array("[true".utf8) + [0] + Array("]".utf8),
            Array(#"{"a":1"#.utf8) + [0] + Array("}".utf8),
            Array("[1.5".utf8) + [0] + Array(",2]".utf8),
            Array("7".utf8) + [0],
            Array("[".utf8) + [0] + Array("1]".utf8),
        ]
        for text in texts {
            #expect(reason(text) == .syntax, "\(text)")
        }
        // Raw in a string it is a control character, refused by jansson itself.
        #expect(reason([UInt8(ascii: "\""), 0, UInt8(ascii: "\"")]) == .syntax)
    }

    @Test func acceptsNulInStringValuesButNotInKeys() throws {
        let value = try parse(#""a\u0000b""#).value
        #expect(value.stringValue == "a\u{0}b")
        #expect(value.compactJSON() == Array(#""a\u0000b""#.utf8))
        #expect(reason(Array(#"{"a\u0000b":1}"#.utf8)) == .nulInKey)
    }

    @Test func numbersBeyondWhatCanBeHeldAreOutOfRange() {
        #expect(reason(Array("18446744073709551616".utf8)) == .numberOutOfRange)
        #expect(reason(Array("-9223372036854775809".utf8)) == .numberOutOfRange)
        #expect(reason(Array("1e400".utf8)) == .numberOutOfRange)
    }

    @Test(arguments: ["1e-400", "2e-324", "-1e-400", "1E-330", "0.0000000001e-399", "123e-1000000000000", "[1,{\"b\":1e-999}]",
                      "0." + String(repeating: "0", count: 400) + "1"])
    func numbersTooCloseToZeroAreOutOfRange(text: String) {
        #expect(reason(Array(text.utf8)) == .numberOutOfRange)
    }

    @Test(arguments: [("5e-324", "5e-324"), ("0e-400", "0.0"), ("0.0e-999", "0.0"), ("-0.0", "-0.0"), ("1e-300", "1e-300"),
                      ("2.2250738585072014e-308", "2.2250738585072014e-308"), ("10000e-327", "1e-323"), ("\"1e-400\"", "\"1e-400\"")])
    func theSmallestDoublesAndZeroAreKept(text: String, compact: String) throws {
        #expect(try parse(text).value.compactJSON() == Array(compact.utf8))
    }

    @Test func depthIsLimitedBeforeParsing() {
        let ok = String(repeating: "[", count: 4) + String(repeating: "]", count: 4)
        #expect(reason(Array(ok.utf8), maxDepth: 4) == nil)
        let deep = String(repeating: "[", count: 5) + String(repeating: "]", count: 5)
        #expect(reason(Array(deep.utf8), maxDepth: 4) == .tooDeep)
        // Far deeper than jansson's own limit: refused quickly, no recursion.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(reason(Array(hostile.utf8), maxDepth: 32) == .tooDeep)
    }

    @Test func bracketsInsideStringsDoNotCountAsDepth() {
        let text = #"{"a":"[[[[[[[[{{{{{{\"[[[["}"#
        #expect(reason(Array(text.utf8), maxDepth: 1) == nil)
    }

    @Test func errorDetailsCarryThePosition() {
        let error = reason(Array("{\n\"a\": }".utf8))
        #expect(error?.detail.contains("line 2") == true)
        // Our words only: jansson's text would quote the input back.
        let quoted = reason(Array(#"{"secret-value-here":"\ud800"}"#.utf8))
        #expect(quoted?.detail.contains("secret") == false)
        #expect(quoted?.detail.contains("ud800") == false)
    }

    @Test func objectKeysAndMembersInDocumentOrder() throws {
        let value = try parse(#"{"z":1,"a":{"b":true},"m":null}"#).value
        #expect(value.keys == ["z", "a", "m"])
        #expect(value.member("a")?.member("b")?.boolValue == true)
        #expect(value.member("missing") == nil)
        #expect(value.member("z")?.member("x") == nil)
    }
}
