/// One record's place in the log, as compaction and history see it: clear header fields only.
struct RecordSlot {
    let header: RecordHeader
    let range: Range<UInt64>
    let fingerprint: UInt32

    var key: IndexKey { IndexKey(environment: header.environment, tag: header.tag) }
}

/// Which byte ranges of a log survive compaction, and how many records that drops.
///
/// A record is dropped only when it is a byte-for-byte copy of another (concatenated
/// copies), or when compaction holds its environment's key and has authenticated
/// `history` newer records of the same `(uuid, tag)`: a line forged without the key can
/// never cost a value. Records of environments whose key is absent are all kept (their
/// owner compacts them). The newest authentic record is always kept, so a deleted secret
/// keeps its tombstone and a merged older copy cannot bring it back. Ranges stay in file
/// order, so a compacted log is a subsequence of the old one and `git diff` shows only
/// removed lines.
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

    /// `isAuthentic(slot)` opens a record of an environment whose key is held (nil when
    /// the key is absent); `sameBytes(a, b)` compares two lines.
    init(
        header: Range<UInt64>, slots: [RecordSlot], history: Int, isAuthentic: (RecordSlot) -> Bool?,
        sameBytes: (RecordSlot, RecordSlot) -> Bool, newerOnTie: (RecordSlot, RecordSlot) -> Bool
    ) {
        var groups: [IndexKey: [Int]] = [:]
        for (position, slot) in slots.enumerated() { groups[slot.key, default: []].append(position) }
        var keep = [Bool](repeating: true, count: slots.count)
        for (_, positions) in groups where positions.count > 1 {
            let newestFirst = positions.sorted { a, b in
                let (x, y) = (slots[a], slots[b])
                if (x.header.timestamp, x.header.id) != (y.header.timestamp, y.header.id) {
                    return (x.header.timestamp, x.header.id) > (y.header.timestamp, y.header.id)
                }
                return newerOnTie(x, y)
            }
            var distinct: [Int] = []
            for position in newestFirst {
                if let last = distinct.last, (slots[last].header.timestamp, slots[last].header.id, slots[last].fingerprint)
                    == (slots[position].header.timestamp, slots[position].header.id, slots[position].fingerprint),
                    slots[last].range.count == slots[position].range.count, sameBytes(slots[last], slots[position])
                {
                    keep[position] = false  // the same line twice
                    continue
                }
                distinct.append(position)
            }
            guard distinct.count > history else { continue }
            var authentic = 0
            for (rank, position) in distinct.enumerated() {
                if authentic >= history {
                    for older in distinct[rank...] { keep[older] = false }
                    break
                }
                guard let opened = isAuthentic(slots[position]) else { break }  // no key here: keep them all
                if opened { authentic += 1 }
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
    /// A key that opens none of this environment's records is refused (`VaultError.wrongKey`),
    /// as every command refuses it, though compaction would only have kept those records.
    @discardableResult
    public func compact(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws(VaultError) -> CompactionReport {
        try locked(exclusive: true) { () throws(VaultError) -> CompactionReport in
            try refreshLocked()
            try requireOurKey()
            return try compactLocked(progress: progress)
        }
    }

    /// Compacts when dead records pass the documented threshold; the caller holds the lock
    /// and has just appended. A failure here leaves the old log in place (the append is
    /// already durable), and the next write tries again.
    func compactIfWorthIt() {
        // Only records of environments whose keys are here can be dropped.
        let dead = resolution.reduce(0) { $0 + (index.tallies[$1.id]?.excess ?? 0) }
        guard dead >= Self.automaticCompactionMinimumDead,
            Double(dead) >= Self.automaticCompactionDeadShare * Double(index.recordCount)
        else { return }
        _ = try? compactLocked(progress: { _, _ in })
    }

    private func compactLocked(progress: (UInt64, UInt64) -> Void) throws(VaultError) -> CompactionReport {
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
            guard log.exists else { throw .noLog(path: log.path) }
            try requireOurKey()  // the backup's advice names the key file to keep with it: it must be the right one
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

    /// The compaction plan for the first `limit` bytes of the open log: scans the clear
    /// headers, then opens (authenticates) the newest records of the secrets that have more
    /// than `history`, with the keys of this vault's scopes.
    func plan(limit: UInt64) throws(VaultError) -> CompactionPlan {
        if limit == scannedTo, let plan = try planFromIndex() { return plan }
        return try scanPlan(limit: limit)
    }

    /// With one version kept and every environment's key here, the plan is the index: each
    /// `(uuid, tag)`'s newest record, once it opens wherever older ones would be dropped,
    /// found without parsing the log again. Nil whenever that does not hold (more versions,
    /// a keyless environment, ties, a newest record that does not open): then the log is
    /// scanned and every group planned one by one.
    func planFromIndex() throws(VaultError) -> CompactionPlan? {
        guard history == 1, let header = index.headerLine, index.ties.isEmpty, index.damagedCount == 0 else { return nil }
        let held = Dictionary(resolution.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        guard index.tallies.keys.allSatisfy({ held[$0] != nil }) else { return nil }
        let entries = index.allEntries()
        let superseding = entries.filter { $0.records > 1 }  // their newest must open before older ones go
        var authentic = true
        let vault = vaultID
        do {
            try log.readLines(superseding.map { ($0.offset, Int($0.length)) }) { position, line in
                guard authentic else { return }
                let entry = superseding[position]
                guard let scope = held[entry.newest.environment], let keys = scope.keys(for: entry.newest.keyID),
                    (try? RecordCodec.openName(line: line, header: entry.newest, keys: keys, vault: vault)) != nil
                else {
                    authentic = false
                    return
                }
            }
        } catch {
            throw Self.translate(error)
        }
        guard authentic else { return nil }
        return CompactionPlan(
            header: header, keeping: entries.map { $0.offset..<($0.offset + UInt64($0.length) + 1) }, of: index.recordCount)
    }

    /// Scans the first `limit` bytes of the open log into a compaction plan, authenticating
    /// the newest records of the secrets that have more than `history`. Damaged lines (that
    /// do not parse, or a header of another vault) are kept byte for byte: they are nobody's
    /// to drop but `recover`'s.
    func scanPlan(limit: UInt64) throws(VaultError) -> CompactionPlan {
        var header: Range<UInt64> = 0..<0
        var vaultHeader: FileHeader? = nil
        var slots: [RecordSlot] = []
        var damaged: [Range<UInt64>] = []
        slots.reserveCapacity(index.recordCount)
        do {
            _ = try log.scan(from: 0, limit: limit) { line in
                let range = line.offset..<(line.offset + UInt64(line.length) + 1)
                switch line.parsed {
                case .success(.fileHeader(let found)):
                    if line.offset == 0 {
                        header = range
                        vaultHeader = found
                    } else if found != vaultHeader {
                        damaged.append(range)  // another vault's header; a repeat of ours is dropped
                    }
                case .success(.record(let record)):
                    slots.append(RecordSlot(header: record, range: range, fingerprint: StoredEntry.fingerprint(line.bytes)))
                case .failure:
                    damaged.append(range)
                }
            }
        } catch {
            throw Self.translate(error)
        }
        var plan = try scanPlan(header: header, slots: slots)
        if !damaged.isEmpty { plan.kept = [plan.kept[0]] + (plan.kept.dropFirst() + damaged).sorted { $0.lowerBound < $1.lowerBound } }
        return plan
    }

    /// The plan for `slots`, the record lines of the open log.
    private func scanPlan(header: Range<UInt64>, slots: [RecordSlot]) throws(VaultError) -> CompactionPlan {
        let held = Dictionary(resolution.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let vault = vaultID
        let log = self.log
        func bytes(_ slot: RecordSlot) -> [UInt8]? {
            try? log.readLine(at: slot.range.lowerBound, length: slot.range.count - 1)
        }
        return CompactionPlan(
            header: header, slots: slots, history: history,
            isAuthentic: { slot in
                guard let scope = held[slot.header.environment], let line = bytes(slot) else { return nil }
                var ignored: [SkippedRecord] = []
                return Authentication.open(
                    Candidate(header: slot.header, offset: slot.range.lowerBound, line: line), line: line, in: scope, named: nil,
                    vault: vault, path: log.path, wholeValue: false, skipped: &ignored) != nil
            },
            sameBytes: { a, b in bytes(a).map { $0 == bytes(b) } ?? false },
            newerOnTie: { a, b in
                guard let x = bytes(a), let y = bytes(b) else { return a.range.lowerBound < b.range.lowerBound }
                return RecordOrder.isNewer(a.header, x, than: b.header, y)
            })
    }
}
