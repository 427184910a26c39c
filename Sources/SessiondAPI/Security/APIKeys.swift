import HTTPTransport
import Crypto

/// The API keys of `--api-keys-file`: which namespace each key opens.
///
/// The file has one `namespace:key` per line; `#` starts a comment line, blank lines are
/// skipped, and a namespace may have several keys (to rotate keys without downtime). Only the
/// SHA-256 digest of each key is kept in memory; a presented key is hashed and compared with
/// every digest in constant time.
public struct APIKeys: Sendable {
    /// Keys shorter than this are refused at start.
    public static let minimumKeyLength = 32

    private struct Entry: Sendable {
        let namespace: String
        let digest: [UInt8]
    }

    private let entries: [Entry]

    /// The namespaces named in the file, in file order, each once.
    public let namespaces: [String]

    /// Parses the text of a keys file.
    /// - Throws: `APIKeysError` naming the line of the first problem: no `:`, a namespace that
    ///   is not 1 to 64 of `A-Z a-z 0-9 _ . -`, a key shorter than `minimumKeyLength` or with
    ///   white space, a key given twice; or a file with no key at all.
    public static func parse(_ text: String) throws(APIKeysError) -> APIKeys {
        var entries: [Entry] = []
        var namespaces: [String] = []
        var seen = Set<[UInt8]>()
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingBlanks()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            guard let colon = line.firstIndex(of: ":") else {
                throw APIKeysError("line \(number): expected namespace:key")
            }
            let namespace = String(line[..<colon])
            let key = line[line.index(after: colon)...]
            guard isNamespace(namespace) else {
                throw APIKeysError("line \(number): a namespace is 1 to 64 letters, digits, '_', '.' or '-'")
            }
            guard key.count >= minimumKeyLength else {
                throw APIKeysError("line \(number): the key of namespace \(namespace) is shorter than \(minimumKeyLength) characters (make one with: openssl rand -hex 32)")
            }
            guard !key.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw APIKeysError("line \(number): a key may not contain white space")
            }
            let digest = Array(SHA256.hash(data: Array(key.utf8)))
            guard seen.insert(digest).inserted else {
                throw APIKeysError("line \(number): this key is already given on an earlier line")
            }
            entries.append(Entry(namespace: namespace, digest: digest))
            if !namespaces.contains(namespace) { namespaces.append(namespace) }
        }
        guard !entries.isEmpty else { throw APIKeysError("the file holds no namespace:key line") }
        return APIKeys(entries: entries, namespaces: namespaces)
    }

    private init(entries: [Entry], namespaces: [String]) {
        self.entries = entries
        self.namespaces = namespaces
    }

    /// The namespace that `key` opens, or nil. Every digest is compared in full, whether or not
    /// an earlier one matched, so the time taken says nothing about the keys.
    public func namespace(for key: some Sequence<UInt8>) -> String? {
        let digest = Array(SHA256.hash(data: Array(key)))
        var found: String?
        for entry in entries {
            var difference: UInt8 = 0
            for (left, right) in zip(digest, entry.digest) { difference |= left ^ right }
            if difference == 0 { found = entry.namespace }
        }
        return found
    }

    private static func isNamespace(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

/// Why a keys file was refused.
public struct APIKeysError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
