/// One record's place in the log, as compaction and history see it: clear header fields only.
struct RecordSlot {
    let key: IndexKey
    let timestamp: Timestamp
    let id: RecordID
    let operation: Operation
    let range: Range<UInt64>
}

/// Which byte ranges of a log survive compaction: per `(uuid, tag)`, the `history` newest
/// records (so always the newest one: the current value, or the tombstone of a deleted
/// name, which keeps a merged older copy from bringing it back); one copy of a record found
/// twice (concatenated copies); the first header line. Ranges stay in file order, so a compacted log is a subsequence of
/// the old one and `git diff` shows only removed lines.
struct CompactionPlan {
    var kept: [Range<UInt64>] = []
    var keptRecords = 0
    var droppedRecords = 0

    /// A plan that keeps `records` (ranges in any order) of `total` records, and the header.
    init(header: Range<UInt64>, keeping records: [Range<UInt64>], of total: Int) {
        kept = [header] + records.sorted { $0.lowerBound < $1.lowerBound }
        keptRecords = records.count
        droppedRecords = total - records.count
    }

    init(header: Range<UInt64>, slots: [RecordSlot], history: Int) {
        var groups: [IndexKey: [Int]] = [:]
        for (position, slot) in slots.enumerated() { groups[slot.key, default: []].append(position) }
        var keep = [Bool](repeating: false, count: slots.count)
        for (_, positions) in groups {
            let newestFirst = positions.sorted { (slots[$0].timestamp, slots[$0].id) > (slots[$1].timestamp, slots[$1].id) }
            var versions = 0
            var previous: (Timestamp, RecordID)? = nil
            for position in newestFirst where versions < history {
                let slot = slots[position]
                if let previous, previous == (slot.timestamp, slot.id) { continue }  // the same record twice
                previous = (slot.timestamp, slot.id)
                keep[position] = true
                versions += 1
            }
        }
        kept = [header]
        for (position, slot) in slots.enumerated() where keep[position] { kept.append(slot.range) }
        keptRecords = kept.count - 1
        droppedRecords = slots.count - keptRecords
    }
}

/// What a compaction (or a backup, which is a compacted copy) did.
public struct CompactionReport: Sendable, Equatable {
    /// Bytes of complete lines before.
    public let bytesBefore: UInt64
    /// Bytes written.
    public let bytesAfter: UInt64
    /// Records before.
    public let recordsBefore: Int
    /// Records kept.
    public let recordsAfter: Int
}

extension Vault {
    /// Automatic compaction starts when at least this many records are dead...
    public static let automaticCompactionMinimumDead = 1_000
    /// ...and they are at least this share of all records (Bitcask's "merge when half is garbage").
    public static let automaticCompactionDeadShare = 0.5

    /// Rewrites the log to the records that still matter (see `CompactionPlan`), for every
    /// environment, keys or not, byte for byte and without decrypting; atomically (new file,
    /// sync, rename, sync the folder). Other processes notice the new file on their next call.
    @discardableResult
    public func compact(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> CompactionReport {
        try locked(exclusive: true) { () throws(VaultError) -> CompactionReport in
            try refreshLocked()
            return try compactLocked(progress: progress)
        }
    }

    /// Compacts when dead records pass the documented threshold; the caller holds the lock
    /// and has just appended. A failure here leaves the old log in place (the append is
    /// already durable), and the next write tries again.
    func compactIfWorthIt() {
        let dead = index.excessRecords
        guard dead >= Self.automaticCompactionMinimumDead,
            Double(dead) >= Self.automaticCompactionDeadShare * Double(index.recordCount)
        else { return }
        _ = try? compactLocked(progress: { _, _ in })
    }

    private func compactLocked(progress: (UInt64, UInt64) -> Void) throws(VaultError) -> CompactionReport {
        try requireUndamaged()
        guard log.exists else { return CompactionReport(bytesBefore: 0, bytesAfter: 0, recordsBefore: 0, recordsAfter: 0) }
        let plan = try plan(limit: scannedTo)
        let before = scannedTo
        let keptBytes = plan.kept.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        if keptBytes == before, tornBytes == 0 {  // nothing to drop: leave the file (and its inode) alone
            log.removeStaleTemporaries()  // but not what a killed compaction left
            return CompactionReport(bytesBefore: before, bytesAfter: before, recordsBefore: plan.keptRecords, recordsAfter: plan.keptRecords)
        }
        let mode = (try? log.mode()) ?? 0o600
        do { try log.writeCopy(ranges: plan.kept, to: log.path, mode: mode, progress: progress) } catch { throw Self.translate(error) }
        try refreshLocked()
        return CompactionReport(
            bytesBefore: before, bytesAfter: scannedTo, recordsBefore: plan.keptRecords + plan.droppedRecords,
            recordsAfter: plan.keptRecords)
    }

    /// Writes a consistent, compacted snapshot of the log to `destination` (mode 0600,
    /// synced, atomically). The lock is held only to learn where the log ends: the bytes
    /// before that end never change, so other writers keep writing during the copy.
    @discardableResult
    public func backup(to destination: String, overwrite: Bool = false, progress: (UInt64, UInt64) -> Void = { _, _ in })
        throws(VaultError) -> CompactionReport
    {
        let end = try locked(exclusive: false) { () throws(VaultError) -> UInt64 in
            try refreshLocked()
            try requireUndamaged()
            guard log.exists else { throw .noLog(path: log.path) }
            return scannedTo
        }
        guard overwrite || !FileSystem.exists(destination) else { throw .fileExists(path: destination) }
        let plan = try plan(limit: end)
        let written = plan.kept.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        do { try log.writeCopy(ranges: plan.kept, to: destination, mode: 0o600, progress: progress) } catch { throw Self.translate(error) }
        return CompactionReport(
            bytesBefore: end, bytesAfter: written, recordsBefore: plan.keptRecords + plan.droppedRecords,
            recordsAfter: plan.keptRecords)
    }

    /// The compaction plan for the first `limit` bytes of the open log.
    func plan(limit: UInt64) throws(VaultError) -> CompactionPlan {
        if limit == scannedTo, let plan = planFromIndex() { return plan }
        return try scanPlan(limit: limit)
    }

    /// With one version kept per secret, the plan is the index itself: each `(uuid, tag)`'s
    /// newest record (the first copy of it, as the scan keeps), found without reading the
    /// log again. Nil when more versions are kept (the index holds the newest only).
    func planFromIndex() -> CompactionPlan? {
        guard history == 1, let header = index.headerLine else { return nil }
        let newest = index.allEntries().map { $0.offset..<($0.offset + UInt64($0.length) + 1) }
        return CompactionPlan(header: header, keeping: newest, of: index.recordCount)
    }

    /// Scans the first `limit` bytes of the open log into a compaction plan.
    func scanPlan(limit: UInt64) throws(VaultError) -> CompactionPlan {
        var header: Range<UInt64> = 0..<0
        var slots: [RecordSlot] = []
        slots.reserveCapacity(index.recordCount)
        do {
            _ = try log.scan(from: 0, limit: limit) { line in
                let range = line.offset..<(line.offset + UInt64(line.length) + 1)
                switch line.parsed {
                case .success(.fileHeader):
                    if line.offset == 0 { header = range }
                case .success(.record(let record)):
                    slots.append(
                        RecordSlot(
                            key: IndexKey(environment: record.environment, tag: record.tag), timestamp: record.timestamp,
                            id: record.id, operation: record.operation, range: range))
                case .failure:
                    break  // callers refuse damaged logs before planning
                }
            }
        } catch {
            throw Self.translate(error)
        }
        return CompactionPlan(header: header, slots: slots, history: history)
    }
}
