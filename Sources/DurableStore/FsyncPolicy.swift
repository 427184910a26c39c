/// When a write reaches the disk, relative to its acknowledgement (`--fsync`). Under every
/// policy a write is acknowledged only once its record is in the kernel (written to the log
/// file), so a crash of the process loses no acknowledged write; the policies differ in what a
/// power failure or kernel crash can lose.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// Acknowledged only once fsynced; the writes gathered while one fsync runs share the next
    /// (group commit). Loses nothing acknowledged.
    case always
    /// fsynced about once a second by the writer thread: a power failure loses at most about
    /// the last second.
    case everysec
    /// Never fsynced by sessiond (the kernel writes back within about 30 s on Linux).
    case no
}
