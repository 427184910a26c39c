import Logging
import SessionCore

/// Start-up recovery: the snapshot, then every log of its generation and later replayed over
/// it, in order. Runs before the store serves, on the starting thread.
///
/// - A torn or corrupt tail of a log (a crash in the middle of a write, a flipped bit, zeros) is
///   cut at the last good record, and a warning says how many bytes were dropped.
/// - A file of another format version, a damaged snapshot, a file that is not sessiond's, or a
///   directory that cannot be read stops the start with a `DurableStoreError` that says what to
///   do: never a crash, and never a silently empty store.
/// - Sessions expired by `now` are left out; stale files (logs older than the snapshot, an
///   unfinished `snapshot.tmp`) are removed.
struct Recovery {
    /// What recovery found.
    struct State: Sendable {
        /// The live sessions of each namespace, by handle (their `id` is `MemoryStore.restoredID`).
        var namespaces: [String: [SessionHandle: Session]] = [:]
        /// The snapshot's generation (0 without one).
        var snapshotGeneration: UInt64 = 0
        /// The snapshot's size in bytes (0 without one).
        var snapshotBytes = 0
        /// The log to append to, and its length once cut at its last good record; nil when a
        /// new log must be made, of generation `nextGeneration`.
        var openLog: (generation: UInt64, length: Int)?
        /// The generation of a new log: past the snapshot's and every log's seen.
        var nextGeneration: UInt64 = 1
        /// Records read from the snapshot and the logs.
        var recordsRead = 0
        /// Bytes of torn or corrupt tails cut off.
        var bytesDropped = 0

        /// How many live sessions came back over all namespaces.
        var sessionCount: Int { namespaces.values.reduce(0) { $0 + $1.count } }
    }

    let directory: DataDirectory
    let logger: Logger

    /// Reads everything back; see the type's summary.
    func run(now: Timestamp) throws(DurableStoreError) -> State {
        let listing = try directory.list()
        var state = State()
        if listing.hasSnapshot {
            try readSnapshot(into: &state)
        }
        for generation in listing.logs where generation < state.snapshotGeneration {
            removeQuietly(directory.logPath(generation))
        }
        removeQuietly(directory.snapshotTemporaryPath)
        for generation in listing.logs where generation >= state.snapshotGeneration {
            try replayLog(generation, into: &state)
        }
        state.nextGeneration = max(1, state.snapshotGeneration, (listing.logs.last ?? 0) + 1)
        for namespace in Array(state.namespaces.keys) {
            // Removed in place: most sessions are live, and a filtered copy of a million would
            // double the memory for a moment.
            let expired = state.namespaces[namespace]?.compactMap { $0.value.isLive(at: now) ? nil : $0.key } ?? []
            for handle in expired { state.namespaces[namespace]?[handle] = nil }
        }
        return state
    }

    private func removeQuietly(_ path: String) {
        do {
            try directory.remove(path)
        } catch {
            logger.warning("cannot remove a stale file of the data directory", metadata: ["error": "\(error)"])
        }
    }

    private func read(_ path: String) throws(DurableStoreError) -> [UInt8] {
        do {
            let file = try DataFile.openForReading(path)
            defer { file.close() }
            return try file.readAll()
        } catch {
            throw DurableStoreError(.unusableDirectory, "cannot read \(error.path): \(error); give this user read access to the data directory")
        }
    }

    // MARK: - Snapshot

    private func readSnapshot(into state: inout State) throws(DurableStoreError) {
        let path = directory.snapshotPath
        let bytes = try read(path)
        let advice = "move the data directory aside and restore it from a backup, or move just `snapshot` aside to start from the logs alone (sessions older than the last snapshot are then lost)"
        try bytes.withUnsafeBytes { raw in
            Result { () throws(DurableStoreError) in try parseSnapshot(raw, path: path, advice: advice, into: &state) }
        }.get()
    }

    private func parseSnapshot(
        _ raw: UnsafeRawBufferPointer, path: String, advice: String, into state: inout State
    ) throws(DurableStoreError) {
        let header: FileHeader
        do throws(FileHeader.Problem) {
            header = try FileHeader.read(raw)
        } catch {
            throw headerError(error, path: path, advice: advice)
        }
        guard header.kind == .snapshot else {
            throw DurableStoreError(.corrupt, "\(path) is not a snapshot (its header says otherwise): \(advice)")
        }
        var reader = RecordReader(raw, from: FileHeader.size)
        var count: UInt64 = 0
        while true {
            switch reader.next() {
            case let .record(.put(namespace, handle, session)):
                state.namespaces[namespace, default: [:]][handle] = session
                count += 1
            case let .record(.end(expected)):
                guard expected == count, case .stop(.endOfFile) = reader.next() else {
                    throw DurableStoreError(.corrupt, "the snapshot \(path) is damaged (its count or its end does not match): \(advice)")
                }
                state.snapshotGeneration = header.generation
                state.snapshotBytes = raw.count
                state.recordsRead += Int(count) + 1
                return
            case .record:
                throw DurableStoreError(.corrupt, "the snapshot \(path) holds a record a snapshot cannot hold: \(advice)")
            case let .stop(stop):
                throw DurableStoreError(.corrupt, "the snapshot \(path) is damaged (a \(stop) record at byte \(reader.offset) of \(raw.count)): \(advice)")
            }
        }
    }

    private func headerError(_ problem: FileHeader.Problem, path: String, advice: String) -> DurableStoreError {
        switch problem {
        case let .unsupportedVersion(version):
            return DurableStoreError(.unsupportedVersion, """
                \(path) is in format version \(version); this sessiond reads versions \(FileHeader.oldestReadable) to \(FileHeader.currentVersion). \
                Start the sessiond version that wrote it, or move the data directory aside to start empty
                """)
        case .notADataFile:
            return DurableStoreError(.corrupt, "\(path) is not a file of sessiond's data directory: move it out of the directory, or give another --data-dir")
        case .incomplete, .corrupt:
            return DurableStoreError(.corrupt, "the header of \(path) is damaged: \(advice)")
        }
    }

    // MARK: - Logs

    private func replayLog(_ generation: UInt64, into state: inout State) throws(DurableStoreError) {
        let path = directory.logPath(generation)
        let bytes = try read(path)
        let advice = "move the data directory aside and restore it from a backup, or move \(path) aside to start without its changes"
        let outcome = try bytes.withUnsafeBytes { raw in
            Result { () throws(DurableStoreError) in try parseLog(raw, generation: generation, path: path, advice: advice, into: &state) }
        }.get()
        guard let (goodLength, stop) = outcome else {
            // Made but its header never reached the disk: nothing in it was ever acknowledged.
            if !bytes.isEmpty {
                logger.warning("a log's header was incomplete; the log is dropped", metadata: ["file": "\(path)", "dropped_bytes": "\(bytes.count)"])
                state.bytesDropped += bytes.count
            }
            removeQuietly(path)
            state.openLog = nil
            return
        }
        if goodLength < bytes.count {
            let dropped = bytes.count - goodLength
            state.bytesDropped += dropped
            logger.warning(
                "cut a \(stop) tail off a log at its last good record",
                metadata: ["file": "\(path)", "kept_bytes": "\(goodLength)", "dropped_bytes": "\(dropped)"]
            )
            do {
                let file = try DataFile.openForAppending(path, create: false)
                defer { file.close() }
                try file.truncate(to: goodLength)
                try file.sync()
            } catch {
                throw DurableStoreError(.unusableDirectory, "cannot cut the damaged tail off \(path): \(error); give this user write access to the data directory")
            }
        }
        state.openLog = (generation, goodLength)
    }

    /// Replays the records of one log; nil when its header never reached the disk.
    /// - Returns: the end of its last good record and why reading stopped.
    private func parseLog(
        _ raw: UnsafeRawBufferPointer, generation: UInt64, path: String, advice: String, into state: inout State
    ) throws(DurableStoreError) -> (Int, RecordReader.Stop)? {
        let header: FileHeader
        do throws(FileHeader.Problem) {
            header = try FileHeader.read(raw)
        } catch .incomplete {
            return nil
        } catch {
            throw headerError(error, path: path, advice: advice)
        }
        guard header.kind == .log, header.generation == generation else {
            throw DurableStoreError(.corrupt, "\(path) is not the log its name says (kind or generation differ): \(advice)")
        }
        var reader = RecordReader(raw, from: FileHeader.size)
        while true {
            switch reader.next() {
            case let .record(record):
                guard apply(record, to: &state) else {
                    throw DurableStoreError(.corrupt, "\(path) holds a snapshot's end record at byte \(reader.offset): \(advice)")
                }
                state.recordsRead += 1
            case let .stop(stop):
                return (reader.offset, stop)
            }
        }
    }

    /// Applies a log record; false for a record a log cannot hold.
    private func apply(_ record: DurableRecord, to state: inout State) -> Bool {
        switch record {
        case let .put(namespace, handle, session):
            state.namespaces[namespace, default: [:]][handle] = session
        case let .remove(namespace, handle):
            state.namespaces[namespace]?[handle] = nil
        case let .touch(namespace, handle, expiresAt, lastSeenAt):
            state.namespaces[namespace]?[handle]?.expiresAt = expiresAt
            if let lastSeenAt { state.namespaces[namespace]?[handle]?.lastSeenAt = lastSeenAt }
        case .end:
            return false
        }
        return true
    }
}
