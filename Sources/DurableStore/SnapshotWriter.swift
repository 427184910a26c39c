import SessionCore

/// Writes a snapshot: the live sessions of every namespace's store, into `snapshot.tmp`, which
/// is fsynced, renamed over `snapshot`, and made durable by an fsync of the directory. A crash at
/// any point leaves either the old snapshot or the new one, never half of one.
struct SnapshotWriter {
    let directory: DataDirectory
    /// Bytes gathered before each `write`.
    var chunkBytes = 4 << 20

    /// Writes the snapshot of generation `generation` from `stores` (namespace and store).
    /// - Parameter shouldStop: asked between sessions; true abandons the snapshot (the
    ///   temporary file is removed and `nil` returned).
    /// - Returns: the snapshot's size in bytes and how many sessions it holds, or nil when
    ///   abandoned.
    /// - Throws: `SystemCallError` when a file cannot be written (the temporary file is removed).
    func write(
        generation: UInt64, stores: [(String, MemoryStore)], at now: Timestamp, shouldStop: () -> Bool
    ) throws(SystemCallError) -> (bytes: Int, sessions: Int)? {
        let temporary = directory.snapshotTemporaryPath
        let file = try DataFile.create(temporary)
        do throws(SystemCallError) {
            var buffer = FileHeader(kind: .snapshot, generation: generation).bytes
            buffer.reserveCapacity(chunkBytes + 65_536)
            var total = 0
            var count: UInt64 = 0
            var failure: SystemCallError?
            var stopped = false
            for (namespace, store) in stores {
                store.forEachLiveSession(at: now) { handle, session in
                    RecordEncoder.append(.put(namespace: namespace, handle: handle, session: session), to: &buffer)
                    count += 1
                    if buffer.count >= chunkBytes {
                        do throws(SystemCallError) {
                            try file.write(buffer)
                        } catch {
                            failure = error
                            return false
                        }
                        total += buffer.count
                        buffer.removeAll(keepingCapacity: true)
                        if shouldStop() {
                            stopped = true
                            return false
                        }
                    }
                    return true
                }
                if failure != nil || stopped { break }
            }
            if let failure { throw failure }
            if stopped {
                file.close()
                try directory.remove(temporary)
                return nil
            }
            RecordEncoder.append(.end(count: count), to: &buffer)
            try file.write(buffer)
            total += buffer.count
            try file.sync()
            file.close()
            try directory.rename(temporary, to: directory.snapshotPath)
            try directory.sync()
            return (total, Int(count))
        } catch {
            file.close()
            try? directory.remove(temporary)
            throw error
        }
    }
}
