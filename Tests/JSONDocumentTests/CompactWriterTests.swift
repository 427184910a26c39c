import JSONDocument
import Testing

@Suite("Compact writer: what a client stores it reads back")
struct CompactWriterTests {
    private func compact(_ text: String) throws -> String {
        String(decoding: try JSONDocument.parse(Array(text.utf8), maxDepth: 64).value.compactJSON(), as: UTF8.self)
    }

    @Test(arguments: [
        ("9007199254740993", "9007199254740993"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036854775807", "9223372036854775807"),
        ("0.1", "0.1"),
        ("1e-7", "1e-7"),
        ("1E-07", "1e-7"),
        ("-0.0", "-0.0"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1.5e300", "1.5e300"),
        ("1e16", "1e16"),
        ("5e-324", "5e-324"),
        ("100.0", "100.0"),
        ("1e2", "100.0"),
        ("0.10", "0.1"),
        ("-0", "0"),
    ])
    func numbersKeepTheirValueInTheShortestForm(input: String, expected: String) throws {
        #expect(try compact(input) == expected)
    }

    @Test func realsReadBackAsTheSameDouble() throws {
        for value in [0.1, 1e-7, 123.456, 2.0 / 3.0, 1e21, 1.7976931348623157e308, 2.2250738585072014e-308] {
            let text = try compact("\(value)")
            #expect(Double(text) == value, "\(value) became \(text)")
        }
    }

    @Test func whiteSpaceIsRemovedAndOrderKept() throws {
        #expect(try compact(" { \"b\" : [ 1 , 2 ] ,\n \"a\" : { } } ") == #"{"b":[1,2],"a":{}}"#)
    }

    @Test func stringsAreEscapedMinimally() throws {
        #expect(try compact(#""caf\u00e9""#) == "\"café\"")
        #expect(try compact(#""q\"b\\s\/""#) == #""q\"b\\s/""#)
        #expect(try compact(#""\n\r\t\b\f\u0001\u001f""#) == #""\n\r\t\b\f\u0001\u001f""#)
        #expect(try compact(#""😀\u2028""#) == "\"😀\u{2028}\"")
    }

    @Test func keysAreEscapedToo() throws {
        #expect(try compact(#"{"a\"b\n":1}"#) == #"{"a\"b\n":1}"#)
    }

    @Test func compactOutputParsesBackToTheSameOutput() throws {
        let text = #"{"user":42,"cart":[1,2.5,{"x":null}],"flags":{"a":true,"b":false},"s":"\u0000é"}"#
        let once = try compact(text)
        #expect(try compact(once) == once)
    }
}
