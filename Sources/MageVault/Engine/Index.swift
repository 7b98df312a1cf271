/// Where the newest record of one secret is: the state of the vault, built from clear
/// headers alone. Keyed by `(uuid, tag)`, which for an environment whose key we hold is the
/// same as `(name, uuid)`.
struct IndexKey: Hashable {
    let environment: EnvironmentID
    let tag: NameTag
}

/// The newest record of one `(uuid, tag)` and how many records it has in the log.
struct IndexEntry {
    var newest: RecordHeader
    var offset: UInt64
    var length: UInt32
    var records: UInt32
}

/// Per-environment counts, known without any key.
struct EnvironmentTally {
    var records = 0
    var keyIDs: Set<UInt32> = []
}

/// The in-memory index of a log: replaying the clear headers of every line, in any order,
/// gives the same index, because per `(uuid, tag)` the greatest `(timestamp, id)` wins.
struct Index {
    /// Versions compaction keeps per `(uuid, tag)`.
    let history: Int
    private(set) var entries: [IndexKey: IndexEntry] = [:]
    private(set) var tallies: [EnvironmentID: EnvironmentTally] = [:]
    /// Damaged lines: the first few offsets, and how many in all.
    private(set) var damagedOffsets: [UInt64] = []
    private(set) var damagedCount = 0
    /// The greatest timestamp seen in the log (the hybrid logical clock's memory).
    private(set) var latest: Timestamp?
    /// The vault id of the file's header.
    private(set) var vaultID: VaultID?

    /// Records in all (every line but headers and damaged ones).
    private(set) var recordCount = 0
    /// Records beyond the `history` newest of their `(uuid, tag)`: what compaction would
    /// drop (about: a dropped record may be a kept tombstone). Drives automatic compaction.
    private(set) var excessRecords = 0

    static let damagedOffsetsKept = 8

    init(history: Int) { self.history = history }

    /// Replays one scanned line.
    mutating func apply(_ line: ScannedLine) {
        switch line.parsed {
        case .failure:
            damagedCount += 1
            if damagedOffsets.count < Self.damagedOffsetsKept { damagedOffsets.append(line.offset) }
        case .success(.fileHeader(let header)):
            if vaultID == nil {
                vaultID = header.vaultID
            } else if vaultID != header.vaultID {
                // A repeated header is what concatenating two copies of a log leaves; a header of
                // another vault means two different vaults were spliced together.
                damagedCount += 1
                if damagedOffsets.count < Self.damagedOffsetsKept { damagedOffsets.append(line.offset) }
            }
        case .success(.record(let header)):
            apply(header, offset: line.offset, length: line.length)
        }
    }

    /// Replays one record header found at `offset`.
    mutating func apply(_ header: RecordHeader, offset: UInt64, length: Int) {
        recordCount += 1
        tallies[header.environment, default: EnvironmentTally()].records += 1
        tallies[header.environment]!.keyIDs.insert(header.keyID)
        if latest.map({ header.timestamp > $0 }) ?? true { latest = header.timestamp }
        let key = IndexKey(environment: header.environment, tag: header.tag)
        let located = IndexEntry(newest: header, offset: offset, length: UInt32(length), records: 1)
        guard var entry = entries[key] else {
            entries[key] = located
            return
        }
        entry.records += 1
        if entry.records > history { excessRecords += 1 }
        if header.isNewer(than: entry.newest) {
            entry.newest = header
            entry.offset = offset
            entry.length = UInt32(length)
        }
        entries[key] = entry
    }

    /// The entry of one secret.
    func entry(environment: EnvironmentID, tag: NameTag) -> IndexEntry? {
        entries[IndexKey(environment: environment, tag: tag)]
    }

    /// Entries of one environment whose newest record sets a value.
    func liveEntries(of environment: EnvironmentID) -> [IndexEntry] {
        entries.values.filter { $0.newest.environment == environment && $0.newest.operation == .set }
    }
}
