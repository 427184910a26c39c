#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// The data directory (`--data-dir`): its lock, its files' names, and the directory operations
/// that make a rename durable.
///
/// Files: `lock` (held with `flock` while a sessiond uses the directory; it holds that
/// process's pid), `snapshot` (the live sessions at the start of its generation's log),
/// `snapshot.tmp` (a snapshot being written), `log.<generation>` (changes, 20 digits).
final class DataDirectory: Sendable {
    let path: String
    /// The open lock file (-1 once released); the lock lasts as long as the descriptor.
    private let lockDescriptor: NIOLockedValueBox<Int32>

    /// Opens `path` (creating it, mode 0700, when absent), checks it can be read and written,
    /// and takes its lock.
    /// - Throws: `DurableStoreError` `.unusableDirectory` or `.locked`, saying what to do.
    init(path: String) throws(DurableStoreError) {
        self.path = path
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            let error = SystemCallError.last("mkdir", path)
            throw DurableStoreError(.unusableDirectory, "cannot create the data directory: \(error); create it, writable by this user, or give another --data-dir")
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw DurableStoreError(.unusableDirectory, "the data directory \(path) is not a directory: give --data-dir a directory")
        }
        guard access(path, R_OK | W_OK | X_OK) == 0 else {
            let error = SystemCallError.last("access", path)
            throw DurableStoreError(.unusableDirectory, "cannot read and write the data directory: \(error); give this user read and write access (e.g. chown) or give another --data-dir")
        }
        let lockPath = path + "/lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let error = SystemCallError.last("open", lockPath)
            throw DurableStoreError(.unusableDirectory, "cannot open the lock file: \(error); give this user read and write access to the data directory")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
            let holder = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self).trimmingWhitespace : "another process"
            Glibc.close(descriptor)
            throw DurableStoreError(.locked, "the data directory \(path) is in use by another sessiond (pid \(holder)): stop it first, or give this one another --data-dir")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.lockDescriptor = NIOLockedValueBox(descriptor)
    }

    deinit { release() }

    /// Gives up the lock: another process may use the directory from now on.
    func release() {
        lockDescriptor.withLockedValue { descriptor in
            if descriptor >= 0 { Glibc.close(descriptor) }
            descriptor = -1
        }
    }

    var snapshotPath: String { path + "/snapshot" }
    var snapshotTemporaryPath: String { path + "/snapshot.tmp" }

    /// `log.` and the generation in 20 digits, so that names sort by generation.
    func logPath(_ generation: UInt64) -> String {
        let digits = String(generation)
        return path + "/log." + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// What the directory holds.
    struct Listing: Sendable {
        var hasSnapshot: Bool
        /// Generations of the log files, in increasing order.
        var logs: [UInt64]
    }

    /// Lists the snapshot and log files.
    func list() throws(DurableStoreError) -> Listing {
        guard let directory = opendir(path) else {
            let error = SystemCallError.last("opendir", path)
            throw DurableStoreError(.unusableDirectory, "cannot list the data directory: \(error); give this user read access")
        }
        defer { closedir(directory) }
        var listing = Listing(hasSnapshot: false, logs: [])
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "snapshot" {
                listing.hasSnapshot = true
            } else if name.hasPrefix("log."), let generation = UInt64(name.dropFirst(4)) {
                listing.logs.append(generation)
            }
        }
        listing.logs.sort()
        return listing
    }

    /// Makes the directory's entries (a file created, renamed or removed) durable.
    func sync() throws(SystemCallError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .last("open", path) }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .last("fsync", path) }
    }

    /// Renames `from` to `to` (atomically replacing it).
    func rename(_ from: String, to: String) throws(SystemCallError) {
        guard Glibc.rename(from, to) == 0 else { throw .last("rename", from) }
    }

    /// Removes `file` if it exists.
    func remove(_ file: String) throws(SystemCallError) {
        guard unlink(file) == 0 || errno == ENOENT else { throw .last("unlink", file) }
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
