#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call on the data directory that failed: which, on what file, and `errno`.
struct SystemCallError: Error, Sendable, CustomStringConvertible {
    let call: String
    let path: String
    /// The `errno` it set.
    let code: Int32

    /// The error of the call that just failed (reads `errno`).
    static func last(_ call: String, _ path: String) -> SystemCallError {
        SystemCallError(call: call, path: path, code: errno)
    }

    /// Whether the disk is full or over quota (space may come back).
    var isNoSpace: Bool { code == ENOSPC || code == EDQUOT }

    var description: String {
        "\(call) \(path): \(String(cString: strerror(code)))"
    }
}
