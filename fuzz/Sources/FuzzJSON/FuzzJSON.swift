// The JSON document parser (JSONDocument.parse, jansson underneath) and the compact writer
// (JSONValue.compactJSON) on arbitrary bytes. Properties:
// - a refusal is a `JSONError`, never a crash, and its reason is the one the reference reader
//   (FuzzSupport/ReferenceJSON) gives; a text is accepted exactly when the reference accepts it;
// - the compact bytes equal the reference's compact writing of its own tree (numbers, escapes,
//   member order), and are canonical: compact -> parse -> compact gives the same bytes, of the
//   same kind, with no white space outside strings and valid UTF-8;
// - the prescan: a text is refused as too deep when its brackets nest deeper than the limit, and
//   a number that is not zero but reads as 0 (`1e-400`) is refused, before anything else;
// - what is accepted under a tight depth limit is accepted the same under a loose one.
import FuzzSupport
import JSONDocument

/// Tight like a small `--max-data-depth`, so the fuzzer reaches the edge quickly.
let tightDepth = 6
/// Loose: every text the fuzzer makes fits (reference and jansson both recurse this deep at most).
let looseDepth = 64

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    check(bytes, maxDepth: tightDepth)
    check(bytes, maxDepth: looseDepth)
    return 0
}

func reason(_ error: JSONError) -> ReferenceJSON.Failure? {
    switch error {
    case .syntax: return .syntax
    case .invalidUTF8: return .invalidUTF8
    case .duplicateKey: return .duplicateKey
    case .tooDeep: return .tooDeep
    case .numberOutOfRange: return .numberOutOfRange
    case .nulInKey: return .nulInKey
    default: return nil  // outOfMemory: not expected for these small inputs
    }
}

func check(_ bytes: [UInt8], maxDepth: Int) {
    let reading = ReferenceJSON.parse(bytes, maxDepth: maxDepth)
    let expected = reading.result
    let document: JSONDocument
    do {
        document = try JSONDocument.parse(bytes, maxDepth: maxDepth)
    } catch {
        require(!error.detail.isEmpty, "a refusal without a detail: \(error)")
        switch expected {
        case .success:
            fatalError("fuzz property violated: refused as \(error) (maxDepth \(maxDepth)) but the reference accepts \(show(bytes))")
        case let .failure(reference):
            let allowed = [reference] + (reading.alsoAllowed.map { [$0] } ?? [])
            require(
                reason(error).map(allowed.contains) == true,
                "refused as \(error) but the reference says \(allowed.map(\.description).joined(separator: " or ")) (maxDepth \(maxDepth)): \(show(bytes))"
            )
        }
        return
    }
    guard case let .success(tree) = expected else {
        fatalError("fuzz property violated: accepted (maxDepth \(maxDepth)) but the reference says \(expected): \(show(bytes))")
    }

    let compact = document.value.compactJSON()
    let want = ReferenceJSON.compact(tree)
    require(compact == want, "compact \(show(compact)) but the reference writes \(show(want)) for \(show(bytes))")
    require(String(validating: compact, as: UTF8.self) != nil, "compact bytes are not UTF-8: \(show(compact))")
    require(ReferenceJSON.depth(tree) <= maxDepth, "accepted a text nesting \(ReferenceJSON.depth(tree)) levels under maxDepth \(maxDepth)")
    requireNoBlanksOutsideStrings(compact)

    // Canonical: the compact text reads back to itself, with the same kind.
    let again: JSONDocument
    do {
        again = try JSONDocument.parse(compact, maxDepth: maxDepth)
    } catch {
        fatalError("fuzz property violated: compact \(show(compact)) of \(show(bytes)) does not parse again: \(error)")
    }
    require(again.value.kind == document.value.kind, "kind changed from \(document.value.kind) to \(again.value.kind)")
    let twice = again.value.compactJSON()
    require(twice == compact, "compact is not stable: \(show(compact)) then \(show(twice))")

    // What an object shows through the API agrees with its compact form.
    if case let .object(members) = tree {
        let keys = document.value.keys
        require(keys.map { Array($0.utf8) } == members.map(\.key), "keys \(keys) differ from the reference's members")
        for member in members {
            let name = String(decoding: member.key, as: UTF8.self)
            guard let value = document.value.member(name) else {
                fatalError("fuzz property violated: member(\(show(member.key))) is nil in \(show(compact))")
            }
            require(value.compactJSON() == ReferenceJSON.compact(member.value), "member \(show(member.key)) reads differently")
            if case let .string(text) = member.value {
                require(value.stringValue.map { Array($0.utf8) } == text, "stringValue of \(show(member.key)) differs")
            }
            if case let .bool(flag) = member.value {
                require(value.boolValue == flag, "boolValue of \(show(member.key)) differs")
            }
        }
    }
    // A real stays a real and keeps its exact value; an integer keeps its digits.
    if case let .real(number) = tree {
        let text = ReferenceJSON.formatReal(number)
        let back = Double(String(decoding: text, as: UTF8.self))
        require(back?.bitPattern == number.bitPattern, "\(show(text)) does not read back as \(number)")
        require(text.contains(UInt8(ascii: ".")) || text.contains(UInt8(ascii: "e")), "real written as an integer: \(show(text))")
    }
}

/// Compact JSON has no white space outside strings.
func requireNoBlanksOutsideStrings(_ text: [UInt8]) {
    var inString = false
    var escaped = false
    for byte in text {
        if inString {
            if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
            require(byte >= 0x20, "a raw control character inside a compact string: \(show(text))")
        } else if byte == 0x22 {
            inString = true
        } else {
            require(![0x20, 0x09, 0x0A, 0x0D].contains(byte), "white space in compact JSON: \(show(text))")
        }
    }
}
