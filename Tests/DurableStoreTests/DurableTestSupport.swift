#if canImport(Glibc)
import Glibc
#endif
import DurableStore
import NIOCore
import NIOPosix
import SessionCore

/// A new empty directory under the system's temporary directory.
func temporaryDirectory() -> String {
    var template = Array("/tmp/sessiond-durable-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let path = mkdtemp(base) else { return nil }
        return String(cString: path)
    }
    guard let made else { fatalError("mkdtemp failed: \(errno)") }
    return made
}

/// The bytes of `path` (empty when absent).
func fileBytes(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { return [] }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk.prefix(count))
    }
    return bytes
}

/// Replaces the contents of `path` with `bytes`.
func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    _ = fwrite(bytes, 1, bytes.count, file)
    fclose(file)
}

/// The names in `directory`.
func fileNames(_ directory: String) -> Set<String> {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: Set<String> = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if name != "." && name != ".." { names.insert(name) }
    }
    return names
}

/// A durable store opened on `path`: one `MemoryStore` and `SessionService` per namespace, as
/// `sessiond` makes them.
struct DurableHarness {
    let storage: DurableStorage
    let stores: [String: MemoryStore]
    let services: [String: SessionService]

    init(
        path: String, namespaces: [String], policy: LifetimePolicy, clock: ManualClock, fsync: FsyncPolicy = .always,
        compaction: CompactionSettings = .init()
    ) throws {
        storage = try DurableStorage(path: path, policy: fsync, clock: clock, compaction: compaction)
        var stores: [String: MemoryStore] = [:]
        var services: [String: SessionService] = [:]
        for namespace in namespaces {
            let store = MemoryStore(policy: policy, clock: clock, journal: storage.journal(for: namespace))
            storage.attach(store, namespace: namespace)
            stores[namespace] = store
            services[namespace] = SessionService(store: store, policy: policy, clock: clock)
        }
        self.stores = stores
        self.services = services
    }

    /// The service of `namespace` (one the harness was made with).
    func service(_ namespace: String = "") -> SessionService {
        guard let service = services[namespace] else { fatalError("no namespace \(namespace) in this harness") }
        return service
    }
}
