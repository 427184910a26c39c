#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file of the data directory: a descriptor and the few calls the store makes on it.
/// Not thread-safe: one thread uses a file at a time (the journal's writer, the compactor, or
/// recovery before serving). Close it with `close()`; `deinit` closes it too.
final class DataFile {
    let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { _ = Glibc.close(descriptor) } }

    /// Opens `path` for reading.
    static func openForReading(_ path: String) throws(SystemCallError) -> DataFile {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .last("open", path) }
        return DataFile(path: path, descriptor: descriptor)
    }

    /// Opens `path` for appending; `create` makes a new file (failing when one exists).
    static func openForAppending(_ path: String, create: Bool) throws(SystemCallError) -> DataFile {
        let flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0)
        let descriptor = open(path, flags, 0o600)
        guard descriptor >= 0 else { throw .last("open", path) }
        return DataFile(path: path, descriptor: descriptor)
    }

    /// Creates `path` afresh (truncating one that exists) for writing.
    static func create(_ path: String) throws(SystemCallError) -> DataFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .last("open", path) }
        return DataFile(path: path, descriptor: descriptor)
    }

    /// The whole file (read straight into the array: a snapshot may be a gigabyte).
    func readAll() throws(SystemCallError) -> [UInt8] {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .last("stat", path) }
        let size = Int(info.st_size)
        var failure: SystemCallError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            while initialized < size {
                let count = read(descriptor, base + initialized, size - initialized)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = .last("read", path)
                    return
                }
                if count == 0 { return }
                initialized += count
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes all of `bytes` (retrying short writes).
    func write(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(descriptor, base + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw .last("write", path)
            }
            done += count
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(SystemCallError) {
        try bytes.withUnsafeBytes { buffer in Result { () throws(SystemCallError) in try write(buffer) } }.get()
    }

    /// Flushes the file's data to the disk (`fdatasync`).
    func sync() throws(SystemCallError) {
        while fdatasync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw .last("fdatasync", path)
        }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int) throws(SystemCallError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw .last("ftruncate", path) }
    }

    /// The file's size in bytes.
    func size() throws(SystemCallError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .last("stat", path) }
        return Int(info.st_size)
    }

    /// Closes the descriptor; later calls fail with EBADF.
    func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }
}
