extension StringProtocol {
    /// Without leading and trailing spaces and tabs (RFC 9110 OWS).
    package func trimmingBlanks() -> SubSequence {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
