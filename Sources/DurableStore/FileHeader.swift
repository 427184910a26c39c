/// The first 28 bytes of every file of the data directory (docs/DURABLE-STORE.md):
///
/// | bytes | field |
/// |---|---|
/// | 0..<8 | magic `SESSIOND` |
/// | 8..<12 | format version, little-endian (`FileHeader.currentVersion`) |
/// | 12..<16 | kind: 1 log, 2 snapshot |
/// | 16..<24 | generation |
/// | 24..<28 | CRC-32C of bytes 0..<24 |
struct FileHeader: Hashable, Sendable {
    /// What a file holds.
    enum Kind: UInt32, Sendable {
        /// Records of changes, appended as they happen.
        case log = 1
        /// The live sessions at one instant, ended by an end record.
        case snapshot = 2
    }

    /// The format this build writes and reads.
    static let currentVersion: UInt32 = 2
    /// The oldest format version this build reads (1 has no rotation marks; its records read the same).
    static let oldestReadable: UInt32 = 1
    static let size = 28
    static let magic: [UInt8] = Array("SESSIOND".utf8)

    var kind: Kind
    /// A snapshot of generation G holds the state at the start of log G; logs of generation G
    /// and later are replayed over it.
    var generation: UInt64

    /// The 28 bytes of this header, in the current version.
    var bytes: [UInt8] {
        var bytes = Self.magic
        bytes.appendLittleEndian(Self.currentVersion)
        bytes.appendLittleEndian(kind.rawValue)
        bytes.appendLittleEndian(generation)
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        return bytes
    }

    /// Why a file's header was refused.
    enum Problem: Error, Hashable, Sendable {
        /// Fewer than `size` bytes, or only zero bytes: a file whose creation did not finish.
        case incomplete
        /// Not a file of sessiond's data directory.
        case notADataFile
        /// A format version this build does not read.
        case unsupportedVersion(UInt32)
        /// The checksum or the kind does not match.
        case corrupt
    }

    /// Reads the header at the start of `bytes`.
    static func read(_ bytes: UnsafeRawBufferPointer) throws(Problem) -> FileHeader {
        guard bytes.count >= size, bytes.prefix(size).contains(where: { $0 != 0 }) else { throw .incomplete }
        guard bytes.prefix(8).elementsEqual(magic) else { throw .notADataFile }
        let version = bytes.loadLittleEndian(UInt32.self, at: 8)
        guard (Self.oldestReadable...Self.currentVersion).contains(version) else { throw .unsupportedVersion(version) }
        let checksum = bytes.loadLittleEndian(UInt32.self, at: 24)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<24])) == checksum,
              let kind = Kind(rawValue: bytes.loadLittleEndian(UInt32.self, at: 12))
        else { throw .corrupt }
        return FileHeader(kind: kind, generation: bytes.loadLittleEndian(UInt64.self, at: 16))
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in little-endian byte order.
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var value = value.littleEndian
        Swift.withUnsafeBytes(of: &value) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset` (which the caller has checked is in bounds).
    func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
