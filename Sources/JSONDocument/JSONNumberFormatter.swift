/// Writes doubles as JSON numbers in their shortest exact form.
enum JSONNumberFormatter {
    /// Appends the shortest decimal that reads back as exactly `value` (Swift's own shortest
    /// round-trip algorithm), with the exponent in JSON's plainest spelling: `1e-7`, not
    /// `1e-07`; `1e16`, not `1e+16`. `value` must be finite (jansson never holds NaN or infinity).
    static func appendShortest(_ value: Double, to out: inout [UInt8]) {
        let text = value.description
        guard let e = text.utf8.firstIndex(of: UInt8(ascii: "e")) else {
            out.append(contentsOf: text.utf8)
            return
        }
        out.append(contentsOf: text.utf8[..<e])
        out.append(UInt8(ascii: "e"))
        var exponent = text.utf8[text.utf8.index(after: e)...]
        if exponent.first == UInt8(ascii: "+") {
            exponent = exponent.dropFirst()
        } else if exponent.first == UInt8(ascii: "-") {
            out.append(UInt8(ascii: "-"))
            exponent = exponent.dropFirst()
        }
        let digits = exponent.drop { $0 == UInt8(ascii: "0") }
        if digits.isEmpty {
            out.append(UInt8(ascii: "0"))
        } else {
            out.append(contentsOf: digits)
        }
    }
}
