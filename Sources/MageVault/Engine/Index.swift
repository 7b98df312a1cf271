/// Where the newest record of one secret is: the state of the vault, built from clear
/// headers alone. Keyed by `(uuid, tag)`, which for an environment whose key we hold is the
/// same as `(name, uuid)`.
struct IndexKey: Hashable {
    let environment: EnvironmentID
    let tag: NameTag

    /// Tags are keyed hashes, uniformly random: 64 bits of the tag mixed with 64 of the uuid
    /// feed the (randomly seeded) hasher as well as all 256 bits would, at half the work.
    func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(truncatingIfNeeded: tag.rawValue) ^ UInt64(truncatingIfNeeded: environment.rawValue))
    }
}

/// The newest record of one `(uuid, tag)` and how many records it has in the log.
struct IndexEntry {
    var newest: RecordHeader
    var offset: UInt64
    var length: UInt32
    var records: UInt32
}

/// What the index stores per `(uuid, tag)`: the newest record's header fields that the key
/// does not already hold, where that record is, how many records the pair has, and a
/// fingerprint of the line (to tell a repeated copy of it from another line that ties on
/// `(time, record-id)`). 40 bytes where a whole `IndexEntry` takes 96: at a million records
/// the table is what opening waits on (cache misses), so its size is its speed.
struct StoredEntry {
    var timestamp: Timestamp
    var id: RecordID
    var offset: UInt64
    var keyID: UInt32
    var length: UInt32
    /// Records of the pair in the low 31 bits; the top bit set for a delete.
    var packed: UInt32
    var fingerprint: UInt32

    var records: UInt32 {
        get { packed & 0x7FFF_FFFF }
        set { packed = (packed & 0x8000_0000) | (newValue & 0x7FFF_FFFF) }
    }

    var operation: Operation { packed & 0x8000_0000 == 0 ? .set : .delete }

    init(
        timestamp: Timestamp, id: RecordID, offset: UInt64, keyID: UInt32, length: UInt32, records: UInt32, operation: Operation,
        fingerprint: UInt32
    ) {
        self.timestamp = timestamp
        self.id = id
        self.offset = offset
        self.keyID = keyID
        self.length = length
        self.packed = (operation == .delete ? 0x8000_0000 : 0) | (records & 0x7FFF_FFFF)
        self.fingerprint = fingerprint
    }

    init(_ header: RecordHeader, offset: UInt64, length: UInt32, fingerprint: UInt32) {
        self.init(
            timestamp: header.timestamp, id: header.id, offset: offset, keyID: header.keyID, length: length, records: 1,
            operation: header.operation, fingerprint: fingerprint)
    }

    /// The entry with its whole header, given the key it is stored under.
    func entry(_ key: IndexKey) -> IndexEntry {
        IndexEntry(
            newest: RecordHeader(
                operation: operation, environment: key.environment, keyID: keyID, tag: key.tag, timestamp: timestamp, id: id),
            offset: offset, length: length, records: records)
    }

    /// A fingerprint of a record line (newline excluded): its checksum column, which is a
    /// function of every other byte. Equal lines have equal fingerprints; two lines that tie
    /// on `(time, record-id)` but differ almost surely do not, and when they do, the
    /// reader's authentication still decides (see `Vault.newestAuthentic`).
    static func fingerprint(_ line: UnsafeRawBufferPointer) -> UInt32 {
        guard line.count >= 8 else { return 0 }
        let word = line.loadUnaligned(fromByteOffset: line.count - 8, as: UInt64.self)
        return UInt32(truncatingIfNeeded: word) ^ UInt32(truncatingIfNeeded: word >> 32)
    }
}

/// Per-environment counts, known without any key.
struct EnvironmentTally {
    var records = 0
    /// Records beyond the `history` newest of their `(uuid, tag)`.
    var excess = 0
    /// The first key id its records name, with where its first record is. Nearly every
    /// environment names one key id, and then the dictionaries below stay empty: a first
    /// `Dictionary` keyed by `UInt32` would make the Swift runtime search every protocol
    /// conformance of the program for `UInt32: Hashable` (some 50 µs in the static binary).
    var firstSample: (keyID: UInt32, offset: UInt64, length: UInt32)?
    /// Every other key id its records name, each with where one of its records is.
    var otherSamples: [UInt32: (offset: UInt64, length: UInt32)] = [:]
    /// Records per key id, counted only once a second key id appears (a rekey's twins, a
    /// foreign line): the common one-key environment pays nothing for it.
    var recordsUnder: [UInt32: Int] = [:]
    /// The key id seen last: nearly every record repeats it, and comparing is cheaper than
    /// looking it up again.
    var lastKeyID: UInt32?

    /// Every key id its records name, each with where one of its records is (the first key
    /// id seen first): when records under an unknown key id appear, one record under a held
    /// key that opens shows the key is right (the others are damage, or a rekey's this
    /// machine does not have yet).
    var samples: [(keyID: UInt32, offset: UInt64, length: UInt32)] {
        guard let firstSample else { return [] }
        var all = [firstSample]
        if !otherSamples.isEmpty {
            for (keyID, sample) in otherSamples { all.append((keyID, sample.offset, sample.length)) }
        }
        return all
    }

    /// Whether its records name more than one key id.
    var hasSeveralKeyIDs: Bool { !otherSamples.isEmpty }

    /// The key ids its records name.
    var keyIDs: [UInt32] { samples.map(\.keyID) }

    mutating func count(keyID: UInt32, offset: UInt64, length: UInt32) {
        records += 1
        if keyID != lastKeyID {
            if let first = firstSample {
                if keyID != first.keyID, otherSamples[keyID] == nil {
                    otherSamples[keyID] = (offset, length)
                    if otherSamples.count == 1 { recordsUnder[first.keyID] = records - 1 }
                }
            } else {
                firstSample = (keyID, offset, length)
            }
            lastKeyID = keyID
        }
        if !otherSamples.isEmpty { recordsUnder[keyID, default: 0] += 1 }
    }
}

/// Per environment (uuid) of a log, its `EnvironmentTally`: what an `[EnvironmentID:
/// EnvironmentTally]` would hold. The first `Dictionary` keyed by `EnvironmentID` made the
/// Swift runtime search every protocol conformance of the program for `EnvironmentID:
/// Hashable` (some 50 µs in the static binary), and every command builds an index. So the
/// tallies sit in an array, found through a small open-addressing table of their positions.
struct EnvironmentTallies {
    /// The uuids, in the order the log first names them (`tallies` in the same order).
    private(set) var keys: [EnvironmentID] = []
    private var tallies: [EnvironmentTally] = []
    /// 1 + a position in `keys`, 0 where empty: a power of two, at most half full. Uuids are
    /// in the clear, so slots come from multipliers drawn at random per process.
    private var slots: [Int] = []
    private var shift: UInt64 = 64
    private static let multipliers = (randomUInt64() | 1, randomUInt64() | 1)

    /// The tally of `id`, if the log names it.
    subscript(id: EnvironmentID) -> EnvironmentTally? { position(of: id).map { tallies[$0] } }

    /// Every uuid with its tally, in the order the log first names them.
    func map<T>(_ transform: (EnvironmentID, EnvironmentTally) throws -> T) rethrows -> [T] {
        try keys.indices.map { try transform(keys[$0], tallies[$0]) }
    }

    /// Where the tally of `id` is, if the log names it.
    func position(of id: EnvironmentID) -> Int? {
        guard !slots.isEmpty else { return nil }
        var slot = home(of: id)
        while slots[slot] != 0 {
            let position = slots[slot] - 1
            if keys[position] == id { return position }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Where the tally of `id` is, an empty one added first when it has none.
    mutating func positionAdding(_ id: EnvironmentID) -> Int {
        if let position = position(of: id) { return position }
        keys.append(id)
        tallies.append(EnvironmentTally())
        if keys.count * 2 > slots.count {
            let capacity = max(8, slots.count * 2)
            slots = [Int](repeating: 0, count: capacity)
            shift = UInt64(64 - capacity.trailingZeroBitCount)
            for position in keys.indices { place(position) }
        } else {
            place(keys.count - 1)
        }
        return keys.count - 1
    }

    /// Changes the tally at `position` (from `positionAdding`) in place.
    mutating func modify(at position: Int, _ body: (inout EnvironmentTally) -> Void) {
        body(&tallies[position])
    }

    private func home(of id: EnvironmentID) -> Int {
        let (a, b) = Self.multipliers
        let mixed = UInt64(truncatingIfNeeded: id.rawValue) &* a &+ UInt64(truncatingIfNeeded: id.rawValue >> 64) &* b
        return Int(truncatingIfNeeded: mixed >> shift)
    }

    private mutating func place(_ position: Int) {
        var slot = home(of: keys[position])
        while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
        slots[slot] = position + 1
    }
}

/// The in-memory index of a log: replaying the clear headers of every line, in any order,
/// gives the same index, because per `(uuid, tag)` the greatest `(timestamp, id)` wins.
struct Index {
    /// Versions compaction keeps per `(uuid, tag)`.
    let history: Int
    private(set) var entries = IndexTable()
    private(set) var tallies = EnvironmentTallies()
    /// Damaged lines: the first few offsets, and how many in all.
    private(set) var damagedOffsets: [UInt64] = []
    private(set) var damagedCount = 0
    /// The greatest timestamp seen in the log that is no later than `clockBound` (the
    /// hybrid logical clock's memory). Later ones, which no sane clock wrote, are counted in
    /// `futureRecords` and cannot drag a writer's clock.
    private(set) var latest: Timestamp?
    /// The greatest time a record may have to move `latest`; set from the wall clock before
    /// each scan (`Timestamp.clockBound`).
    var clockBound = Timestamp(rawValue: .max)
    /// Records whose time was past `clockBound` when they were read.
    private(set) var futureRecords = 0
    /// `(uuid, tag)`s holding two different lines with the same `(time, record-id)`: only the
    /// lines' bytes order them (`RecordOrder`), so a reader resolves these from the log.
    private(set) var ties: Set<IndexKey> = []
    /// The vault id of the file's header.
    private(set) var vaultID: VaultID?
    /// The header line's bytes, newline included.
    private(set) var headerLine: Range<UInt64>?

    /// Records in all (every line but headers and damaged ones).
    private(set) var recordCount = 0
    /// Records beyond the `history` newest of their `(uuid, tag)`: what compaction would
    /// drop (about: a dropped record may be a kept tombstone). Drives automatic compaction.
    private(set) var excessRecords = 0

    static let damagedOffsetsKept = 8

    init(history: Int) { self.history = history }

    /// Makes room for the names a log of `bytes` likely holds before replaying it whole,
    /// so the table is not rebuilt as it grows. A record takes about 250 bytes and a
    /// compacted log keeps at most `history` (10 by default) records a name: bytes / 2048
    /// is about the names of a log that has been compacted, and merely a start for a young
    /// one (costing some 20 bytes of memory per record at most). A log of up to 1 MiB
    /// reserves for a young one instead, a record a name (bytes / 256): from bytes / 2048 its
    /// table was rebuilt three or four times, each time in fresh memory the kernel faults in
    /// page by page (71 of `list`'s faults for 1,000 names, at ~2 µs each), and a table for
    /// 4,096 names (0.6 MB) is the most this costs a log of that size.
    mutating func reserveCapacity(forLogBytes bytes: UInt64) {
        let young = bytes <= 1 << 20 ? bytes / 256 : 0
        entries.reserveCapacity(Int(min(max(bytes / 2048, young), 1 << 24)))
    }

    /// Replays one scanned line.
    mutating func apply(_ line: ScannedLine) {
        switch line.parsed {
        case .failure:
            damagedCount += 1
            if damagedOffsets.count < Self.damagedOffsetsKept { damagedOffsets.append(line.offset) }
        case .success(.fileHeader(let header)):
            if vaultID == nil {
                vaultID = header.vaultID
                headerLine = line.offset..<(line.offset + UInt64(line.length) + 1)
            } else if vaultID != header.vaultID {
                // A repeated header is what concatenating two copies of a log leaves; a header of
                // another vault means two different vaults were spliced together.
                damagedCount += 1
                if damagedOffsets.count < Self.damagedOffsetsKept { damagedOffsets.append(line.offset) }
            }
        case .success(.record(let header)):
            apply(header, offset: line.offset, length: line.length, fingerprint: StoredEntry.fingerprint(line.bytes))
        }
    }

    /// Replays one record header found at `offset`.
    /// One hash look-up per record: entries and tallies are updated in place.
    mutating func apply(_ header: RecordHeader, offset: UInt64, length: Int, fingerprint: UInt32) {
        recordCount += 1
        let slot = tallies.positionAdding(header.environment)
        tallies.modify(at: slot) { $0.count(keyID: header.keyID, offset: offset, length: UInt32(length)) }
        if header.timestamp > clockBound {
            futureRecords += 1
        } else if latest.map({ header.timestamp > $0 }) ?? true {
            latest = header.timestamp
        }
        let key = IndexKey(environment: header.environment, tag: header.tag)
        let history = history
        var excess = false
        var tie = false
        entries.insertOrUpdate(key, new: StoredEntry(header, offset: offset, length: UInt32(length), fingerprint: fingerprint)) { stored in
            stored.records += 1
            excess = stored.records > history
            if (header.timestamp, header.id) > (stored.timestamp, stored.id) {
                let records = stored.records
                stored = StoredEntry(header, offset: offset, length: UInt32(length), fingerprint: fingerprint)
                stored.records = records
            } else if (header.timestamp, header.id) == (stored.timestamp, stored.id),
                stored.fingerprint != fingerprint || stored.length != UInt32(length)
            {
                tie = true
            }
        }
        if excess {
            excessRecords += 1
            tallies.modify(at: slot) { $0.excess += 1 }
        }
        if tie { ties.insert(key) }
    }

    /// The entry of one secret.
    func entry(environment: EnvironmentID, tag: NameTag) -> IndexEntry? {
        let key = IndexKey(environment: environment, tag: tag)
        return entries[key]?.entry(key)
    }

    /// Every entry of one environment, tombstones included, as stored (half the size of an
    /// `IndexEntry`: `list` holds one per name).
    func entries(of environment: EnvironmentID) -> [(key: IndexKey, stored: StoredEntry)] {
        var found: [(key: IndexKey, stored: StoredEntry)] = []
        found.reserveCapacity(min(entries.count, tallies[environment]?.records ?? 0))
        entries.forEach { key, stored in
            if key.environment == environment { found.append((key, stored)) }
        }
        return found
    }

    /// Entries of one environment whose newest record sets a value.
    func liveEntries(of environment: EnvironmentID) -> [IndexEntry] {
        var live: [IndexEntry] = []
        entries.forEach { key, stored in
            if key.environment == environment, stored.operation == .set { live.append(stored.entry(key)) }
        }
        return live
    }

    /// Every entry: the newest record of each `(uuid, tag)`.
    func allEntries() -> [IndexEntry] {
        var all: [IndexEntry] = []
        all.reserveCapacity(entries.count)
        entries.forEach { key, stored in all.append(stored.entry(key)) }
        return all
    }

    /// Per environment, the names whose newest record sets a value.
    func liveCounts() -> [EnvironmentID: Int] {
        var live: [EnvironmentID: Int] = [:]
        entries.forEach { key, stored in if stored.operation == .set { live[key.environment, default: 0] += 1 } }
        return live
    }
}
