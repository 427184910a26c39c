/// Why the durable store cannot start: each says what is wrong and what to do. `sessiond`
/// refuses to start with it (exit 2); it is never a crash and never a silently empty store.
public struct DurableStoreError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem (new cases may come).
    public enum Code: Hashable, Sendable {
        /// Another process holds the data directory's lock.
        case locked
        /// The directory cannot be created, read or written.
        case unusableDirectory
        /// A file was written by another format version.
        case unsupportedVersion
        /// A file is not one of sessiond's, or its snapshot is damaged.
        case corrupt
    }

    public let code: Code
    /// What is wrong and what to do.
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
