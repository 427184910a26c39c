/// A second, independent reading of JSON, written from RFC 8259 and from what Sessiond promises
/// (README, JSONDocument's documentation), that FuzzJSON and FuzzMergePatch compare
/// `JSONDocument` (jansson underneath) against: the same texts accepted, the same reason for a
/// refusal, the same compact bytes for an accepted text, the same merge-patch results.
///
/// Refusals follow jansson's order of reading, because Sessiond answers with the first reason
/// jansson reports: a reader that takes one character at a time (a UTF-8 sequence is checked
/// whole when its first byte is read), a lexer that reads one character past a number or a
/// word, and a parser that asks the lexer for the next token before it judges the current one.
/// The first problem met wins, except for what Sessiond's one pass over the text finds before
/// jansson runs (JSONDocument's prescan): nesting deeper than the limit, a number that is not
/// zero but reads as 0 (README: "too close to zero to be anything but 0", issue #10 item 6),
/// and a NUL byte outside a string.
public enum ReferenceJSON {
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        case syntax, invalidUTF8, duplicateKey, tooDeep, numberOutOfRange, nulInKey
        public var description: String {
            switch self {
            case .syntax: return "syntax"
            case .invalidUTF8: return "invalidUTF8"
            case .duplicateKey: return "duplicateKey"
            case .tooDeep: return "tooDeep"
            case .numberOutOfRange: return "numberOutOfRange"
            case .nulInKey: return "nulInKey"
            }
        }
    }

    public struct Member {
        public var key: [UInt8]
        public var value: Value
    }

    public indirect enum Value {
        case object([Member])
        case array([Value])
        case string([UInt8])
        case integer(Int64)
        case real(Double)
        case bool(Bool)
        case null

        public var isObject: Bool {
            if case .object = self { return true }
            return false
        }
    }

    /// What a text should give: the value, or the reason for refusing it. `alsoAllowed` is a
    /// second acceptable reason: a number-like run of bytes that is not a JSON number (`01e-400`,
    /// `1.e-400`, `0.0.1e-400`) makes the text invalid, and whether the prescan calls it a
    /// number too close to zero (422) or jansson a syntax error (400) is left open.
    public struct Reading {
        public var result: Result<Value, Failure>
        public var alsoAllowed: Failure?
    }

    // MARK: Parsing

    /// Reads `bytes` as Sessiond does: first the prescan (nesting deeper than `maxDepth`, brackets
    /// in strings not counted, and numbers that underflow to 0, whichever comes first in the
    /// text), then jansson's reading.
    public static func parse(_ bytes: [UInt8], maxDepth: Int) -> Reading {
        let scan = prescan(bytes, maxDepth: maxDepth)
        let alsoAllowed: Failure? = scan.junkNumberFirst ? .numberOutOfRange : nil
        if let finding = scan.finding { return Reading(result: .failure(finding), alsoAllowed: alsoAllowed) }
        var parser = Parser(lexer: Lexer(bytes: bytes))
        return Reading(result: parser.document(), alsoAllowed: alsoAllowed)
    }

    /// The prescan: the first of a `[` or `{` opening level `maxDepth + 1`, a JSON number that is
    /// not zero but reads as 0, and a NUL byte; and whether a number-like run that is not a JSON number (and
    /// has a digit other than 0) came before it. Outside strings only (an unescaped `"` opens and
    /// closes one); the text need not be JSON.
    static func prescan(_ bytes: [UInt8], maxDepth: Int) -> (finding: Failure?, junkNumberFirst: Bool) {
        var level = 0
        var junk = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x22:
                index += 1
                while index < bytes.count, bytes[index] != 0x22 {
                    index += bytes[index] == 0x5C ? 2 : 1
                }
            case 0x5B, 0x7B:
                level += 1
                if level > maxDepth { return (.tooDeep, junk) }
            case 0x5D, 0x7D:
                level -= 1
            case 0x00:
                return (.syntax, junk)  // a NUL byte outside a string (jansson may skip one)
            case 0x2D, 0x30...0x39:
                var end = index + 1
                while end < bytes.count, isNumberByte(bytes[end]) { end += 1 }
                let run = Array(bytes[index..<end])
                if isJSONNumber(run) {
                    if underflows(run) { return (.numberOutOfRange, junk) }
                } else if run.prefix(while: { $0 != 0x65 && $0 != 0x45 }).contains(where: { $0 >= 0x31 && $0 <= 0x39 }) {
                    junk = true
                }
                index = end
                continue
            default:
                break
            }
            index += 1
        }
        return (nil, junk)
    }

    static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x65 || byte == 0x45 || byte == 0x2B || byte == 0x2D
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, all of `text`.
    static func isJSONNumber(_ text: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < text.count, text[index] >= 0x30, text[index] <= 0x39 { index += 1 }
            return index - start
        }
        if index < text.count, text[index] == 0x2D { index += 1 }
        guard index < text.count else { return false }
        if text[index] == 0x30 {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if index < text.count, text[index] == 0x2E {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < text.count, text[index] == 0x65 || text[index] == 0x45 {
            index += 1
            if index < text.count, text[index] == 0x2B || text[index] == 0x2D { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == text.count
    }

    /// A JSON number with a digit other than 0 before its exponent that reads as 0.0.
    static func underflows(_ number: [UInt8]) -> Bool {
        let mantissa = number.prefix { $0 != 0x65 && $0 != 0x45 }
        guard mantissa.contains(where: { $0 >= 0x31 && $0 <= 0x39 }) else { return false }
        return Double(String(decoding: number, as: UTF8.self)) == 0
    }

    private enum Token {
        case eof, invalid
        case punctuation(UInt8)
        case string([UInt8])
        case integer(Int64)
        case real(Double)
        case word(Value)
    }

    /// The character reader and lexer.
    private struct Lexer {
        let bytes: [UInt8]
        var position = 0
        /// Bytes before this offset were already checked as part of a UTF-8 sequence.
        var checkedUpTo = 0
        var broken = false
        var failure: Failure?

        init(bytes: [UInt8]) { self.bytes = bytes }

        static let eof = -1
        static let error = -2

        mutating func fail(_ reason: Failure) {
            if failure == nil { failure = reason }
        }

        /// The next byte, -1 at the end, -2 once a byte was not UTF-8 (and ever after).
        mutating func get() -> Int {
            if broken { return Self.error }
            guard position < bytes.count else { return Self.eof }
            let byte = bytes[position]
            if byte >= 0x80 && position >= checkedUpTo {
                guard let length = utf8SequenceLength(bytes, at: position) else {
                    broken = true
                    fail(.invalidUTF8)
                    return Self.error
                }
                checkedUpTo = position + length
            }
            position += 1
            return Int(byte)
        }

        mutating func unget(_ c: Int) {
            if c >= 0 { position -= 1 }
        }

        static func isDigit(_ c: Int) -> Bool { c >= 0x30 && c <= 0x39 }
        static func isAlpha(_ c: Int) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        static func isHex(_ c: Int) -> Bool { isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) }

        mutating func next() -> Token {
            var c = get()
            while c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { c = get() }
            if c == Self.eof { return .eof }
            if c == Self.error { return .invalid }
            switch c {
            case 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C:
                return .punctuation(UInt8(c))
            case 0x22:
                return string()
            case 0x2D, 0x30...0x39:
                return number(first: c)
            default:
                if Self.isAlpha(c) {
                    var word: [UInt8] = [UInt8(c)]
                    c = get()
                    while Self.isAlpha(c) {
                        word.append(UInt8(c))
                        c = get()
                    }
                    unget(c)
                    switch word {
                    case Array("true".utf8): return .word(.bool(true))
                    case Array("false".utf8): return .word(.bool(false))
                    case Array("null".utf8): return .word(.null)
                    default: return .invalid
                    }
                }
                // Any other character (its UTF-8 sequence was checked when it was read).
                return .invalid
            }
        }

        /// After the opening quote: first the raw scan to the closing quote, then decoding.
        mutating func string() -> Token {
            let start = position
            var c = get()
            while c != 0x22 {
                if c == Self.error { return .invalid }
                if c == Self.eof {
                    fail(.syntax)  // premature end of input
                    return .invalid
                }
                if c < 0x20 {
                    unget(c)
                    fail(.syntax)  // control character in a string
                    return .invalid
                }
                if c == 0x5C {
                    c = get()
                    if c == 0x75 {  // u
                        c = get()
                        for _ in 0..<4 {
                            guard Self.isHex(c) else {
                                fail(.syntax)
                                return .invalid
                            }
                            c = get()
                        }
                    } else if [0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74].contains(c) {
                        c = get()
                    } else {
                        fail(.syntax)  // invalid escape
                        return .invalid
                    }
                } else {
                    c = get()
                }
            }
            // The raw text between the quotes is well formed; decode the escapes.
            let raw = bytes[start..<(position - 1)]
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var index = raw.startIndex
            while index < raw.endIndex {
                let byte = raw[index]
                guard byte == 0x5C else {
                    out.append(byte)
                    index += 1
                    continue
                }
                let kind = raw[index + 1]
                index += 2
                switch kind {
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    var scalar = hex4(raw, at: index)
                    index += 4
                    if scalar >= 0xD800 && scalar <= 0xDBFF {
                        // A high surrogate must be followed at once by an escaped low one.
                        guard index + 1 < raw.endIndex, raw[index] == 0x5C, raw[index + 1] == 0x75 else {
                            fail(.syntax)
                            return .invalid
                        }
                        let low = hex4(raw, at: index + 2)
                        index += 6
                        guard low >= 0xDC00 && low <= 0xDFFF else {
                            fail(.syntax)
                            return .invalid
                        }
                        scalar = ((scalar - 0xD800) << 10) + (low - 0xDC00) + 0x10000
                    } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                        fail(.syntax)  // a lone low surrogate
                        return .invalid
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    out.append(kind)  // " \ /
                }
            }
            return .string(out)
        }

        private func hex4(_ raw: ArraySlice<UInt8>, at index: Int) -> UInt32 {
            var value: UInt32 = 0
            for byte in raw[index..<(index + 4)] {
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                default: digit = byte - 0x61 + 10
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// RFC 8259 numbers; without fraction and exponent an integer that must fit 64 bits,
        /// else a double that must be finite.
        mutating func number(first: Int) -> Token {
            var text: [UInt8] = [UInt8(first)]
            var c = first
            if c == 0x2D {
                c = get()
                if c >= 0 { text.append(UInt8(c)) }
            }
            if c == 0x30 {
                c = get()
                if Self.isDigit(c) {
                    unget(c)
                    return .invalid  // a leading zero
                }
                if c >= 0 { text.append(UInt8(c)) }
            } else if Self.isDigit(c) {
                repeat {
                    c = get()
                    if c >= 0 { text.append(UInt8(c)) }
                } while Self.isDigit(c)
            } else {
                unget(c)
                return .invalid  // "-" without digits
            }
            // `text` ends with the character after the digits (when there is one).
            if c != 0x2E && c != 0x45 && c != 0x65 {
                unget(c)
                if c >= 0 { text.removeLast() }
                guard let value = Int64(String(decoding: text, as: UTF8.self)) else {
                    fail(.numberOutOfRange)
                    return .invalid
                }
                return .integer(value)
            }
            if c == 0x2E {
                c = get()
                guard Self.isDigit(c) else {
                    unget(c)
                    return .invalid
                }
                text.append(UInt8(c))
                repeat {
                    c = get()
                    if c >= 0 { text.append(UInt8(c)) }
                } while Self.isDigit(c)
            }
            if c == 0x45 || c == 0x65 {
                c = get()
                if c >= 0 { text.append(UInt8(c)) }
                if c == 0x2B || c == 0x2D {
                    c = get()
                    if c >= 0 { text.append(UInt8(c)) }
                }
                guard Self.isDigit(c) else {
                    unget(c)
                    return .invalid
                }
                repeat {
                    c = get()
                    if c >= 0 { text.append(UInt8(c)) }
                } while Self.isDigit(c)
            }
            unget(c)
            if c >= 0 { text.removeLast() }
            guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
                fail(.numberOutOfRange)
                return .invalid
            }
            return .real(value)
        }
    }

    private struct Parser {
        var lexer: Lexer
        var token: Token = .eof

        mutating func advance() { token = lexer.next() }

        mutating func document() -> Result<Value, Failure> {
            advance()
            guard let value = value() else { return .failure(lexer.failure ?? .syntax) }
            advance()
            guard case .eof = token else {
                lexer.fail(.syntax)  // bytes after the value
                return .failure(lexer.failure ?? .syntax)
            }
            if let failure = lexer.failure { return .failure(failure) }
            return .success(value)
        }

        mutating func value() -> Value? {
            switch token {
            case let .string(bytes): return .string(bytes)
            case let .integer(value): return .integer(value)
            case let .real(value): return .real(value)
            case let .word(value): return value
            case .punctuation(0x7B): return object()
            case .punctuation(0x5B): return array()
            default:
                lexer.fail(.syntax)
                return nil
            }
        }

        mutating func object() -> Value? {
            var members: [Member] = []
            advance()
            if case .punctuation(0x7D) = token { return .object(members) }
            while true {
                guard case let .string(key) = token else {
                    lexer.fail(.syntax)
                    return nil
                }
                if key.contains(0) {
                    lexer.fail(.nulInKey)
                    return nil
                }
                if members.contains(where: { $0.key == key }) {
                    lexer.fail(.duplicateKey)
                    return nil
                }
                advance()
                guard case .punctuation(0x3A) = token else {
                    lexer.fail(.syntax)
                    return nil
                }
                advance()
                guard let member = value() else { return nil }
                members.append(Member(key: key, value: member))
                advance()
                guard case .punctuation(0x2C) = token else { break }
                advance()
            }
            guard case .punctuation(0x7D) = token else {
                lexer.fail(.syntax)
                return nil
            }
            return .object(members)
        }

        mutating func array() -> Value? {
            var elements: [Value] = []
            advance()
            if case .punctuation(0x5D) = token { return .array(elements) }
            while true {
                if case .eof = token { break }
                guard let element = value() else { return nil }
                elements.append(element)
                advance()
                guard case .punctuation(0x2C) = token else { break }
                advance()
            }
            guard case .punctuation(0x5D) = token else {
                lexer.fail(.syntax)
                return nil
            }
            return .array(elements)
        }
    }

    // MARK: Writing

    /// Compact JSON as Sessiond promises it: no white space, members in order, integers as
    /// digits, reals in their shortest round-trip form with a plain exponent (`1e-7`, `1e16`)
    /// that still reads as a real (`100.0`), strings with only `"`, `\` and control characters
    /// escaped.
    public static func compact(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    private static func write(_ value: Value, into out: inout [UInt8]) {
        switch value {
        case let .object(members):
            out.append(0x7B)
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(0x2C) }
                writeString(member.key, into: &out)
                out.append(0x3A)
                write(member.value, into: &out)
            }
            out.append(0x7D)
        case let .array(elements):
            out.append(0x5B)
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(0x2C) }
                write(element, into: &out)
            }
            out.append(0x5D)
        case let .string(bytes): writeString(bytes, into: &out)
        case let .integer(value): out += Array(String(value).utf8)
        case let .real(value): out += formatReal(value)
        case let .bool(flag): out += Array((flag ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        }
    }

    private static func writeString(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(0x22)
        for byte in bytes {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }

    /// The shortest decimal that reads back as `value`, as JSON: mantissa and exponent taken
    /// apart and the exponent written as a plain integer.
    public static func formatReal(_ value: Double) -> [UInt8] {
        let text = value.description  // Swift's shortest round-trip digits
        let parts = text.split(separator: "e", maxSplits: 1)
        guard parts.count == 2, let exponent = Int(parts[1]) else { return Array(text.utf8) }
        return Array("\(parts[0])e\(exponent)".utf8)
    }

    // MARK: Structure

    /// Nesting depth: 0 for a scalar, 1 for an array or object of scalars.
    public static func depth(_ value: Value) -> Int {
        switch value {
        case let .object(members): return 1 + (members.map { depth($0.value) }.max() ?? 0)
        case let .array(elements): return 1 + (elements.map { depth($0) }.max() ?? 0)
        default: return 0
        }
    }

    /// RFC 7396 §2's MergePatch(Target, Patch), keeping the order Sessiond promises: members
    /// already there keep their place, new ones come last.
    public static func mergePatch(_ patch: Value, into target: Value) -> Value {
        guard case let .object(patchMembers) = patch else { return patch }
        var members: [Member] = []
        if case let .object(existing) = target { members = existing }
        for change in patchMembers {
            let place = members.firstIndex { $0.key == change.key }
            if case .null = change.value {
                if let place { members.remove(at: place) }
                continue
            }
            let merged = mergePatch(change.value, into: place.map { members[$0].value } ?? .null)
            if let place {
                members[place].value = merged
            } else {
                members.append(Member(key: change.key, value: merged))
            }
        }
        return .object(members)
    }
}

/// The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
/// nothing past U+10FFFF) starting at `index`, or nil.
public func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
    let first = bytes[index]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch first {
    case 0x00...0x7F: return 1
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED: length = 3; high = 0x9F
    case 0xF0: length = 4; low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; high = 0x8F
    default: return nil
    }
    guard index + length <= bytes.count else { return nil }
    guard bytes[index + 1] >= low && bytes[index + 1] <= high else { return nil }
    for offset in 2..<max(2, length) where !(bytes[index + offset] >= 0x80 && bytes[index + offset] <= 0xBF) {
        return nil
    }
    return length
}
